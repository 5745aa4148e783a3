/** Small DOM helpers: elements, SVG icons and buttons. Text always goes in via textContent. */

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  parent?: HTMLElement,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  parent?.append(node);
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

/** Icon paths on a 24x24 grid, stroked with currentColor (`fill: ` prefix: filled path). */
export const ICONS = {
  prev: ["M15 6l-6 6 6 6"],
  next: ["M9 6l6 6-6 6"],
  casePrev: ["M12 6l-6 6 6 6", "M19 6l-6 6 6 6"],
  caseNext: ["M5 6l6 6-6 6", "M12 6l6 6-6 6"],
  play: ["fill:M8 5v14l11-7z"],
  keyboard: ["M3 6h18v12H3z", "M7 10h1", "M11 10h1", "M15 10h1", "M7 14h10"],
  pause: ["fill:M7 5h3.5v14H7z", "fill:M13.5 5H17v14h-3.5z"],
  contrast: ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z", "fill:M12 3v18a9 9 0 0 1 0-18z"],
  invert: ["M4 4h16v16H4z", "fill:M4 4h16L4 20z"],
  fit: ["M12 2v4", "M12 18v4", "M2 12h4", "M18 12h4", "M12 7a5 5 0 1 0 0 10a5 5 0 1 0 0-10z"],
  rotateLeft: ["M3 4v6h6", "M3.5 10A8.5 8.5 0 1 1 6 16.5"],
  rotateRight: ["M21 4v6h-6", "M20.5 10A8.5 8.5 0 1 0 18 16.5"],
  flipH: ["M12 3v18", "M8 8l-4 4 4 4", "M16 8l4 4-4 4"],
  flipV: ["M3 12h18", "M8 8l4-4 4 4", "M8 16l4 4 4-4"],
  info: ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z", "M12 11v6", "M12 7v1"],
  tags: ["M9 6h11", "M9 12h11", "M9 18h11", "M4 6h1", "M4 12h1", "M4 18h1"],
  link: [
    "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1",
    "M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1",
  ],
  maximise: ["M4 9V4h5", "M15 4h5v5", "M20 15v5h-5", "M9 20H4v-5"],
  crosshair: ["M12 2v7", "M12 15v7", "M2 12h7", "M15 12h7"],
  ortho: ["M3 4h11v16H3z", "M16 4h5v7h-5z", "M16 13h5v7h-5z"],
  save: ["M5 4h11l3 3v13H5z", "M8 4v5h7V4", "M8 20v-6h8v6"],
  close: ["M6 6l12 12", "M18 6L6 18"],
  trash: ["M4 7h16", "M9 7V4h6v3", "M6 7l1 13h10l1-13"],
  pointer: ["M6 3l12 9-5.5 1.2L15 19l-2.2 1-2.6-5.9L6 18z"],
  box: ["M5 5h14v14H5z", "fill:M3.5 3.5h3v3h-3z", "fill:M17.5 17.5h3v3h-3z"],
  polygon: ["M12 3l8 6-3 11H7L4 9z", "fill:M10.5 1.5h3v3h-3z"],
  undo: ["M9 14L4 9l5-5", "M4 9h10a6 6 0 0 1 0 12h-3"],
  redo: ["M15 14l5-5-5-5", "M20 9H10a6 6 0 0 0 0 12h3"],
} as const;

export type IconName = keyof typeof ICONS;

/** An icon by name, or by its own path specs (same syntax as ICONS). */
export function icon(name: IconName | readonly string[]): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "daw-icon");
  for (const spec of typeof name === "string" ? ICONS[name] : name) {
    const path = document.createElementNS(SVG, "path");
    if (spec.startsWith("fill:")) {
      path.setAttribute("d", spec.slice(5));
      path.setAttribute("fill", "currentColor");
      path.setAttribute("stroke", "none");
    } else {
      path.setAttribute("d", spec);
    }
    svg.append(path);
  }
  return svg;
}

/** A toolbar button: icon and/or short label, tooltip with the shortcut hint. */
export function button(
  parent: HTMLElement,
  opts: { icon?: IconName | readonly string[]; label?: string; title: string; testid: string; toggle?: boolean },
): HTMLButtonElement {
  const b = el("button", "daw-btn", parent);
  b.type = "button";
  b.title = opts.title;
  b.setAttribute("aria-label", opts.title);
  b.dataset.testid = opts.testid;
  if (opts.icon) b.append(icon(opts.icon));
  if (opts.label) el("span", "daw-btn-label", b, opts.label);
  if (opts.toggle) b.setAttribute("aria-pressed", "false");
  return b;
}

/** Set an element's text only when it changes (panels update on every frame). */
/** Call `onScroll(scrollTop)` on every scroll of a virtual list (passive; removed on abort). */
export function followScroll(list: HTMLElement, signal: AbortSignal, onScroll: (top: number) => void): void {
  list.addEventListener("scroll", () => onScroll(list.scrollTop), { signal, passive: true });
}

export function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** Set an input's bound or step only when it changes (each write costs style work). */
export function setBound(node: HTMLInputElement, name: "min" | "max" | "step", value: string): void {
  if (node[name] !== value) node[name] = value;
}

/** Set an attribute only when it changes (a write queues mutation records and style work
 * even when the value is the same). */
export function setAttr(node: Element, name: string, value: string): void {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

export function setPressed(b: HTMLButtonElement, on: boolean): void {
  setAttr(b, "aria-pressed", on ? "true" : "false");
}

/**
 * Capture a pointer on `node` so that a drag keeps its moves when the pointer leaves it.
 * The browser refuses (throws) for a pointer that is no longer active, e.g. released between
 * the event and this call, or an event made by a script; the drag then goes on uncaptured
 * instead of being lost. Returns whether the capture took.
 */
export function capturePointer(node: Element, pointerId: number): boolean {
  try {
    node.setPointerCapture?.(pointerId);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Latin letter of a key event, for shortcuts: the typed letter when the layout types one
 * (AZERTY's z is z), else the letter at that key's position on a US keyboard (Cyrillic,
 * Greek...: Ctrl+Z is still the key where Z is). Anything else: the key as typed, lower case.
 */
export function keyLetter(e: KeyboardEvent): string {
  const key = e.key.toLowerCase();
  if (/^[a-z]$/.test(key)) return key;
  return /^Key[A-Z]$/.test(e.code) ? e.code.slice(3).toLowerCase() : key;
}

/** Ctrl (Cmd on a Mac) + `letter`, without alt; `shift` says whether Shift must be held. */
export function isAccel(e: KeyboardEvent, letter: string, shift = false): boolean {
  return (e.ctrlKey || e.metaKey) && !e.altKey && e.shiftKey === shift && keyLetter(e) === letter;
}

/**
 * A one-line text input for user text (a name, a label) that ends with Enter (keep), Escape
 * (cancel) or leaving it (keep): `end(keep)` is called for the first of them. Every key typed
 * in it stays in it (the widget's keydown handler leaves text inputs alone and keeps keys from
 * the notebook). Returns the input and an AbortController whose abort() removes its listeners:
 * abort before removing the input, or removing it (a blur) ends it again.
 */
export function textField(
  opts: { className: string; testid: string; value: string; placeholder: string; label: string; maxLength: number },
  end: (keep: boolean) => void,
): { input: HTMLInputElement; ac: AbortController } {
  const input = document.createElement("input");
  input.type = "text";
  input.className = opts.className;
  input.dataset.testid = opts.testid;
  input.maxLength = opts.maxLength;
  input.spellcheck = false;
  input.autocomplete = "off";
  input.value = opts.value;
  input.placeholder = opts.placeholder;
  input.setAttribute("aria-label", opts.label);
  const ac = new AbortController();
  const on = { signal: ac.signal };
  input.addEventListener(
    "keydown",
    (e) => {
      if (e.key !== "Enter" && e.key !== "Escape") return;
      e.preventDefault();
      end(e.key === "Enter");
    },
    on,
  );
  input.addEventListener("blur", () => end(true), on);
  return { input, ac };
}

/** A vertical band on screen, in client pixels. */
export interface Band {
  top: number;
  bottom: number;
}

/** An ancestor of a node: its vertical overflow and its box on screen. */
export interface ClipBox {
  overflowY: string;
  top: number;
  bottom: number;
  width: number;
  height: number;
}

/** The part of a window `windowHeight` tall that ancestors `boxes` leave visible: each one
 * that clips (overflow other than visible) cuts it. A box of no size clips nothing the node
 * shows: the node is seen, so it is laid out outside that box (JupyterLab's outer
 * `jp-ThemedContainer` is 0 px high with `overflow: hidden`, which made the band empty). */
export function clipBand(boxes: readonly ClipBox[], windowHeight: number): Band {
  const band = { top: 0, bottom: windowHeight };
  for (const b of boxes) {
    if (b.overflowY === "visible" || b.width <= 0 || b.height <= 0) continue;
    band.top = Math.max(band.top, b.top);
    band.bottom = Math.min(band.bottom, b.bottom);
  }
  return band;
}

/** The part of the screen ``node`` can show in: the window, cut by every ancestor that clips
 * (a scrolled notebook, an output area with a maximum height). */
export function visibleBand(node: Element): Band {
  const boxes: ClipBox[] = [];
  for (let p = node.parentElement; p; p = p.parentElement) {
    const overflowY = getComputedStyle(p).overflowY;
    if (overflowY === "visible") continue;
    const r = p.getBoundingClientRect();
    boxes.push({ overflowY, top: r.top, bottom: r.bottom, width: r.width, height: r.height });
  }
  return clipBand(boxes, window.innerHeight);
}

/** Smallest part of the image (px) that must be on screen for a toast to show over it. */
const TOAST_MIN_VISIBLE_PX = 48;

/** Where a toast goes, relative to the root (its offset parent): near the top of the image and
 * centred over it when enough of the image is on screen; otherwise at the top of what is on
 * screen of the widget (e.g. the objects panel below the image of a narrow widget, scrolled
 * to), so that a message about a click in the panel is seen. */
export function toastPlacement(
  root: DOMRectReadOnly,
  image: DOMRectReadOnly,
  visible: Band,
): { top: number; left: number } {
  const imageTop = Math.max(image.top, visible.top);
  const imageBottom = Math.min(image.bottom, visible.bottom);
  const left = image.left - root.left + image.width / 2;
  if (imageBottom - imageTop >= TOAST_MIN_VISIBLE_PX) return { top: imageTop - root.top + 8, left };
  const top = Math.max(root.top, visible.top) - root.top + 8;
  return { top: Math.max(0, Math.min(top, root.height - 32)), left };
}

/** How long (ms) a toast stays: long enough to read it (about 20 characters a second after a
 * moment to notice it), between 1.6 and 8 s. */
export function toastDuration(text: string): number {
  return Math.round(Math.min(8000, Math.max(1600, 600 + 50 * text.length)));
}

/**
 * Keep the keyboard in `root` when a control inside it goes away under the focus: a button
 * clicked and then disabled while its work runs, or rebuilt by the panel that owns it. The
 * browser then moves the focus to the page's body, and the widget's keys (c, v, m after an
 * answer) reached nothing until the image was clicked. A control left by the user (a click
 * or Tab elsewhere) keeps its focus where the user put it.
 */
export function keepFocusWithin(root: HTMLElement, signal: AbortSignal): void {
  const dropped = (): boolean => {
    const active = root.ownerDocument.activeElement;
    return root.isConnected && (active === null || active === root.ownerDocument.body);
  };
  const refocus = (): void => {
    if (dropped()) root.focus({ preventScroll: true });
  };
  // a control disabled or rebuilt by its own click (the handlers below the root ran first)
  root.addEventListener(
    "click",
    (e) => {
      if (e.target instanceof Element && e.target.closest("button, input, select")) setTimeout(refocus, 0);
    },
    { signal },
  );
  // ... or later, when the kernel answers: the focus leaves for nowhere from a control that
  // is gone or disabled
  root.addEventListener(
    "focusout",
    (e) => {
      const from = e.target;
      if (e.relatedTarget !== null || !(from instanceof HTMLElement) || from === root) return;
      setTimeout(() => {
        const gone = !from.isConnected || (from as HTMLButtonElement).disabled === true;
        if (gone) refocus();
      }, 0);
    },
    { signal },
  );
}
