/**
 * The bitmask popup, over the viewport while a mask tool is chosen (or an edit is pending):
 * brush size (radius in voxels; the disc outline follows the pointer), the threshold range in
 * modality units (two handles plus numeric inputs), the "threshold preview" toggle, the mask
 * opacity, and Apply label (Enter) / Discard (Esc). It also installs the masks layer and keeps
 * the shown slice's masks requested from Python (js/render/masklayer.ts).
 */
import "./bitmask.css";
import { MAX_RADIUS, maskSession } from "../render/masklayer";
import { SLIDER_MAX_RADIUS, hasMaskClass, maskKey, sliderMaxRadius } from "../tools/bitmask";
import type { EditorApi, Panel, PanelFactory } from "../tools/types";
import { el, visibleBand } from "./dom";

/** Clamp a threshold range into [min, max] keeping lo <= hi; `moved` says which end the user moved. */
export function clampRange(lo: number, hi: number, min: number, max: number, moved: "lo" | "hi"): [number, number] {
  const c = (v: number): number => Math.min(max, Math.max(min, v));
  let a = c(lo);
  let b = c(hi);
  if (a > b) {
    if (moved === "lo") b = a;
    else a = b;
  }
  return [a, b];
}

/** Viewports narrower than this (CSS px), or shorter than half of it, start with the panel
 * folded. */
export const NARROW_PX = 420;

class BitmaskPanel implements Panel {
  private readonly s;
  private readonly pop: HTMLElement;
  private readonly title: HTMLElement;
  private readonly size: HTMLInputElement;
  private readonly sizeOut: HTMLElement;
  private readonly thresholdRow: HTMLElement;
  private readonly lo: HTMLInputElement;
  private readonly hi: HTMLInputElement;
  private readonly loNum: HTMLInputElement;
  private readonly hiNum: HTMLInputElement;
  private readonly preview: HTMLInputElement;
  private readonly overwrite: HTMLInputElement;
  private readonly overwriteRow: HTMLElement;
  private readonly opacity: HTMLInputElement;
  private readonly applyBtn: HTMLButtonElement;
  private readonly discardBtn: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly actions: HTMLElement;
  private readonly fold: HTMLButtonElement;
  private readonly body: HTMLElement;
  /** folded or not by the user (null: not chosen; a narrow view then starts folded) */
  private userFolded: boolean | null = null;
  private bounds: [number, number] = [0, 1];
  private shownKey = "";
  private layered = false;

  constructor(private readonly api: EditorApi) {
    const s = maskSession(api);
    this.s = s;
    const on = { signal: api.signal };
    const offMsg = api.onMessage((msg, buffers) => s.onMessage(msg, buffers));
    const offLabels = api.onLabels(() => s.onLabels());
    api.signal.addEventListener("abort", () => {
      offMsg();
      offLabels();
    });

    const pop = el("div", "daw-maskpop", api.viewport);
    pop.dataset.testid = "daw-maskpop";
    pop.hidden = true;
    this.pop = pop;
    // the popup lies over the viewport: its pointer events must not paint or pan
    for (const type of ["pointerdown", "pointermove", "pointerup", "dblclick", "wheel", "contextmenu"] as const) {
      pop.addEventListener(type, (e) => e.stopPropagation(), on);
    }
    // the brush outline goes with the pointer: not left on the image when it moves onto the
    // popup or out of the view (QA)
    const noHover = (): void => {
      if (s.hover && !s.stroking) {
        s.hover = null;
        s.touch();
      }
    };
    pop.addEventListener("pointerenter", noHover, on);
    api.viewport.addEventListener("pointerleave", noHover, on);
    // title bar: the tool's name, then "move to the other side" and "collapse" (the popup
    // covers part of the image: the user puts it where it is not in the way)
    const head = el("div", "daw-maskpop-head", pop);
    this.title = el("div", "daw-maskpop-title", head);
    const side = el("button", "daw-maskpop-tiny", head, "⇆");
    side.type = "button";
    side.title = "Move this panel to the other side of the image";
    // named by its title, not its symbol (QA 23b D4: announced as "⇆")
    side.setAttribute("aria-label", side.title);
    side.dataset.testid = "daw-mask-side";
    side.addEventListener("click", () => pop.classList.toggle("daw-maskpop-left"), on);
    const fold = el("button", "daw-maskpop-tiny", head, "–");
    fold.type = "button";
    fold.title = "Collapse or expand this panel";
    fold.setAttribute("aria-label", fold.title);
    fold.dataset.testid = "daw-mask-fold";
    fold.setAttribute("aria-expanded", "true");
    const body = el("div", "daw-maskpop-body", pop);
    this.fold = fold;
    this.body = body;
    fold.addEventListener(
      "click",
      () => {
        this.userFolded = !body.hidden;
        this.setFolded(this.userFolded);
      },
      on,
    );

    const sizeRow = el("label", "daw-maskpop-row", body);
    el("span", "daw-maskpop-label", sizeRow, "Size");
    this.size = el("input", "daw-maskpop-range", sizeRow);
    this.size.type = "range";
    this.size.min = "1";
    this.size.max = String(SLIDER_MAX_RADIUS);
    this.size.step = "1";
    this.size.dataset.testid = "daw-mask-size";
    this.size.title = "Brush radius (voxels; [ and ] in the view)";
    this.sizeOut = el("span", "daw-maskpop-value", sizeRow);
    this.size.addEventListener(
      "input",
      () => {
        const r = Number(this.size.value);
        if (r > 0 && r <= MAX_RADIUS) s.settings.radius = r;
        s.touch();
        this.render(true);
      },
      on,
    );

    this.thresholdRow = el("div", "daw-maskpop-threshold", body);
    const rangeRow = el("div", "daw-maskpop-row", this.thresholdRow);
    el("span", "daw-maskpop-label", rangeRow, "Range");
    this.loNum = this.numberInput(rangeRow, "daw-mask-lo", "Lowest value painted");
    el("span", "daw-maskpop-dash", rangeRow, "–");
    this.hiNum = this.numberInput(rangeRow, "daw-mask-hi", "Highest value painted");
    const slider = el("div", "daw-maskpop-dual", this.thresholdRow);
    this.lo = this.rangeInput(slider, "daw-mask-lo-slider", "Lowest value painted");
    this.hi = this.rangeInput(slider, "daw-mask-hi-slider", "Highest value painted");
    const setRange = (lo: number, hi: number, moved: "lo" | "hi"): void => {
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) return;
      s.settings.range = clampRange(lo, hi, this.bounds[0], this.bounds[1], moved);
      s.touch();
      this.render(true);
    };
    this.lo.addEventListener("input", () => setRange(Number(this.lo.value), s.settings.range[1], "lo"), on);
    this.hi.addEventListener("input", () => setRange(s.settings.range[0], Number(this.hi.value), "hi"), on);
    this.loNum.addEventListener("change", () => setRange(Number(this.loNum.value), s.settings.range[1], "lo"), on);
    this.hiNum.addEventListener("change", () => setRange(s.settings.range[0], Number(this.hiNum.value), "hi"), on);
    const prevRow = el("label", "daw-maskpop-row", this.thresholdRow);
    this.preview = el("input", "", prevRow);
    this.preview.type = "checkbox";
    this.preview.dataset.testid = "daw-mask-preview";
    el("span", "", prevRow, "Threshold preview");
    this.preview.addEventListener(
      "change",
      () => {
        s.settings.thresholdPreview = this.preview.checked;
        s.touch();
      },
      on,
    );

    // one object a voxel, as a labelmap (3D Slicer's "overwrite other segments"); Python's
    // w.mask_overwrite, synced both ways
    const overRow = el("label", "daw-maskpop-row", body);
    this.overwriteRow = overRow;
    this.overwrite = el("input", "", overRow);
    this.overwrite.type = "checkbox";
    this.overwrite.dataset.testid = "daw-mask-overwrite";
    el("span", "", overRow, "Overwrite other masks");
    overRow.title = "What you paint leaves the other masks on the slice (one object a voxel); off: masks may overlap";
    this.overwrite.addEventListener(
      "change",
      () => {
        this.api.model.set("mask_overwrite", this.overwrite.checked);
        this.api.model.save_changes();
        s.touch();
      },
      on,
    );

    const opRow = el("label", "daw-maskpop-row", body);
    el("span", "daw-maskpop-label", opRow, "Opacity");
    this.opacity = el("input", "daw-maskpop-range", opRow);
    this.opacity.type = "range";
    this.opacity.min = "0";
    this.opacity.max = "1";
    this.opacity.step = "0.05";
    this.opacity.dataset.testid = "daw-mask-opacity";
    this.opacity.addEventListener(
      "input",
      () => {
        s.settings.opacity = Number(this.opacity.value);
        s.touch();
        // Python's w.mask_opacity follows (and sets it: LabelEditor.fromModel)
        this.api.model.set("mask_opacity", s.settings.opacity);
        this.api.model.save_changes();
      },
      on,
    );

    const actions = el("div", "daw-maskpop-actions", pop);
    this.actions = actions;
    this.status = el("span", "daw-maskpop-status", actions);
    this.discardBtn = el("button", "daw-btn", actions, "Discard");
    this.discardBtn.type = "button";
    this.discardBtn.title = "Discard the strokes not applied yet (Esc)";
    this.discardBtn.dataset.testid = "daw-mask-discard";
    this.applyBtn = el("button", "daw-btn daw-maskpop-apply", actions, "Apply label");
    this.applyBtn.type = "button";
    this.applyBtn.title = "Commit the strokes to the mask (Enter)";
    this.applyBtn.dataset.testid = "daw-mask-apply";
    this.discardBtn.addEventListener("click", () => s.discard(), on);
    this.applyBtn.addEventListener("click", () => s.apply(), on);
  }

  private numberInput(parent: HTMLElement, testid: string, title: string): HTMLInputElement {
    const i = el("input", "daw-maskpop-num", parent);
    i.type = "number";
    i.step = "any";
    i.title = title;
    i.dataset.testid = testid;
    return i;
  }

  private rangeInput(parent: HTMLElement, testid: string, title: string): HTMLInputElement {
    const i = el("input", "daw-maskpop-range", parent);
    i.type = "range";
    i.title = title;
    i.dataset.testid = testid;
    return i;
  }

  /** Controls from the settings (only when what they show changed, or `force`). */
  private render(force = false): void {
    const s = this.s;
    const st = s.settings;
    const info = this.api.info();
    const vr = info?.value_range ?? [0, 1];
    const integer = info ? !info.dtype.startsWith("float") : true;
    const lo = Math.min(vr[0], st.range[0]);
    const hi = Math.max(vr[1], st.range[1]);
    this.bounds = [lo, hi];
    const tool = this.api.ui.tool;
    const folded = this.body.hidden;
    const g = this.api.geometry();
    const maxRadius = g ? sliderMaxRadius(g.columns, g.rows) : SLIDER_MAX_RADIUS;
    const overwrite = s.overwrites();
    const key = JSON.stringify([st, tool, vr, s.pending?.strokes.length ?? 0, s.committing.size, folded, maxRadius, overwrite]);
    if (!force && key === this.shownKey) return;
    this.shownKey = key;
    const names: Record<string, string> = { brush: "Brush", eraser: "Eraser", threshold: "Threshold brush" };
    const name = names[tool] ?? "Mask edit pending";
    const pendingCount = s.pending?.strokes.length ?? 0;
    // folded, the title line says what the hidden controls would (size, range, pending)
    const units = info?.units ? ` ${info.units}` : "";
    this.title.textContent = !folded
      ? name
      : [tool in names ? `${tool === "threshold" ? "Threshold" : name} ${st.radius} px` : name, tool === "threshold" ? `${st.range[0]}…${st.range[1]}${units}` : "", pendingCount ? `${pendingCount} pending` : ""].filter(Boolean).join(" · ");
    this.title.title = this.title.textContent;
    this.size.max = String(maxRadius);
    this.size.value = String(st.radius);
    this.sizeOut.textContent = `${st.radius} px`;
    this.thresholdRow.hidden = tool !== "threshold";
    for (const r of [this.lo, this.hi]) {
      r.min = String(lo);
      r.max = String(hi);
      r.step = integer ? "1" : String((hi - lo) / 1000 || 1);
    }
    this.lo.value = String(st.range[0]);
    this.hi.value = String(st.range[1]);
    if (document.activeElement !== this.loNum) this.loNum.value = String(st.range[0]);
    if (document.activeElement !== this.hiNum) this.hiNum.value = String(st.range[1]);
    this.loNum.title = `Lowest value painted${units}`;
    this.hiNum.title = `Highest value painted${units}`;
    this.preview.checked = st.thresholdPreview;
    this.overwrite.checked = overwrite;
    this.overwriteRow.hidden = tool === "eraser";
    this.opacity.value = String(st.opacity);
    const pending = s.pending;
    this.applyBtn.disabled = !pending;
    this.discardBtn.disabled = !pending;
    this.status.textContent = pending
      ? `${pending.strokes.length} stroke${pending.strokes.length === 1 ? "" : "s"} pending`
      : s.committing.size > 0
        ? "applying…"
        : "";
    this.pop.dataset.pending = String(pending?.strokes.length ?? 0);
    // folded: Apply / Discard only while there is something to apply
    const actionsShown = !folded || pending !== null || s.committing.size > 0;
    if (this.actions.hidden === actionsShown) this.actions.hidden = !actionsShown;
  }

  /** Over the image (in the viewport), or docked at the top of the panel column. */
  private dock(docked: boolean): void {
    if (this.pop.classList.contains("daw-maskpop-docked") === docked) return;
    this.pop.classList.toggle("daw-maskpop-docked", docked);
    if (docked) this.api.side.prepend(this.pop);
    else this.api.viewport.append(this.pop);
  }

  private setFolded(folded: boolean): void {
    if (this.body.hidden === folded) return;
    this.body.hidden = folded;
    this.pop.classList.toggle("daw-maskpop-folded", folded);
    this.fold.textContent = folded ? "+" : "–";
    this.fold.setAttribute("aria-expanded", String(!folded));
    this.render(true);
  }

  update(): void {
    const s = this.s;
    if (!this.layered) {
      // not in the constructor: the editor is still being built then
      this.layered = true;
      this.api.addLayer(s.layer);
    }
    const k = this.api.slice();
    if (this.api.plane() === "axial") s.ensure(k);
    else s.ensureAll();
    const show = hasMaskClass(this.api) && !this.api.readOnly() && (s.maskToolActive() || s.pending !== null);
    const opening = show && this.pop.hidden;
    if (this.pop.hidden === show) this.pop.hidden = !show;
    if (!s.maskToolActive() && s.hover) s.hover = null;
    if (show) {
      const vp = this.api.viewport;
      // a narrow widget (e.g. three views side by side) has its panel column below the
      // image: the popup docks at the top of it there, rather than covering the image
      const docked = this.api.root.classList.contains("daw-narrow");
      this.dock(docked);
      // over the image, a narrow view starts with the panel folded to its title line, which
      // tells the tool and size; the user's own choice stands
      const narrow = !docked && (vp.clientWidth < NARROW_PX || vp.clientHeight < NARROW_PX / 2);
      this.setFolded(this.userFolded ?? narrow);
      // see-through while a stroke is drawn: the image under it stays visible
      this.pop.classList.toggle("daw-maskpop-stroking", s.stroking && !docked);
      this.render();
      // docked below the image, the popup may open below the window (QA: three views side
      // by side, whose tool bars take five rows): its title line is scrolled into view, as
      // little as needed
      if (opening && docked) requestAnimationFrame(() => this.revealHead());
    }
  }

  private revealHead(): void {
    if (this.pop.hidden || !this.pop.isConnected) return;
    const head = this.fold.getBoundingClientRect();
    const band = visibleBand(this.pop);
    if (head.bottom > band.bottom || head.top < band.top) this.fold.scrollIntoView({ block: "nearest" });
  }

  key(e: KeyboardEvent): boolean {
    return maskKey(this.api, e);
  }

  dispose(): void {
    this.pop.remove();
  }
}

export const MASK_PANELS: PanelFactory[] = [(api) => new BitmaskPanel(api)];
