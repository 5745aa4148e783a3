/**
 * Entry point of the front end (anywidget). `initialize` owns messaging and the volume cache
 * of one model; `render` builds one view of it and returns its cleanup.
 */
import type { Initialize, Render } from "@anywidget/types";
import { version } from "../package.json";
import { Controller, type Model, type WidgetState } from "./loader";
import { renderGrey, renderRGB } from "./render/window";
import "./widget.css";

const controllers = new WeakMap<Model, Controller>();

const initialize: Initialize<WidgetState> = ({ model }) => {
  const controller = new Controller(model);
  controllers.set(model, controller);
  return () => {
    controller.dispose();
    controllers.delete(model);
  };
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  parent?: HTMLElement,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  parent?.append(node);
  return node;
}

const render: Render<WidgetState> = ({ model, el: host }) => {
  const controller = controllers.get(model) ?? new Controller(model);
  const ac = new AbortController();
  const on = { signal: ac.signal };

  const root = el("div", "daw-root", host);
  root.tabIndex = 0;
  root.dataset.version = version;
  root.dataset.testid = "daw-root";
  // Lumino skips its keyboard shortcuts for events from inside such an element.
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  const viewport = el("div", "daw-viewport", root);
  const canvas = el("canvas", "daw-canvas", viewport);
  canvas.dataset.testid = "daw-canvas";
  const loading = el("div", "daw-loading", viewport);
  loading.textContent = "Loading…";
  const status = el("div", "daw-status", root);
  status.dataset.testid = "daw-status";
  const errorBox = el("div", "daw-error", root);
  errorBox.dataset.testid = "daw-error";
  errorBox.setAttribute("role", "alert");

  const ctx = canvas.getContext("2d");
  let image: ImageData | null = null;

  const draw = (): void => {
    const volume = controller.volume;
    errorBox.textContent = controller.error;
    errorBox.hidden = controller.error === "";
    if (!volume || !ctx) {
      loading.hidden = false;
      return;
    }
    if (canvas.width !== volume.columns || canvas.height !== volume.rows) {
      canvas.width = volume.columns;
      canvas.height = volume.rows;
      image = null;
      const [, rowSpacing, columnSpacing] = volume.info.spacing;
      canvas.style.aspectRatio = `${volume.columns * columnSpacing} / ${volume.rows * rowSpacing}`;
    }
    const k = model.get("slice");
    const [center, width] = model.get("window");
    status.textContent = `${k + 1} / ${volume.slices} · W ${Math.round(width)} L ${Math.round(center)} · loaded ${volume.loadedCount}/${volume.slices}`;
    root.dataset.loaded = String(volume.loadedCount);
    if (!volume.loaded[k]) {
      loading.hidden = false;
      return;
    }
    image ??= ctx.createImageData(volume.columns, volume.rows);
    if (volume.samples === 3) renderRGB(volume.slice(k), image.data);
    else {
      renderGrey(
        volume.slice(k),
        volume.slope[k] as number,
        volume.intercept[k] as number,
        center,
        width,
        image.data,
      );
    }
    ctx.putImageData(image, 0, 0);
    loading.hidden = true;
    canvas.dataset.slice = String(k);
    canvas.dataset.window = `${center},${width}`;
  };

  const setSlice = (k: number): void => {
    const volume = controller.volume;
    if (!volume) return;
    const clamped = Math.min(Math.max(0, Math.round(k)), volume.slices - 1);
    if (clamped === model.get("slice")) return;
    model.set("slice", clamped);
    model.save_changes();
  };

  root.addEventListener(
    "keydown",
    (e: KeyboardEvent) => {
      // Keys typed in the widget belong to the widget: never to the notebook.
      e.stopPropagation();
      if (e.key === "ArrowRight" || e.key === "ArrowDown") {
        setSlice(model.get("slice") + 1);
        e.preventDefault();
      } else if (e.key === "ArrowLeft" || e.key === "ArrowUp") {
        setSlice(model.get("slice") - 1);
        e.preventDefault();
      }
    },
    on,
  );
  root.addEventListener("keyup", (e) => e.stopPropagation(), on);
  root.addEventListener("keypress", (e) => e.stopPropagation(), on);
  viewport.addEventListener(
    "wheel",
    (e: WheelEvent) => {
      e.preventDefault();
      if (e.deltaY !== 0) setSlice(model.get("slice") + Math.sign(e.deltaY));
    },
    { signal: ac.signal, passive: false },
  );
  viewport.addEventListener("pointerdown", () => root.focus({ preventScroll: true }), on);

  const unsubscribe = controller.subscribe(draw);
  model.on("change:slice", draw);
  model.on("change:window", draw);
  draw();

  return () => {
    ac.abort();
    unsubscribe();
    model.off("change:slice", draw);
    model.off("change:window", draw);
    root.remove();
  };
};

export default { initialize, render };
