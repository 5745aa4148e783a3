/**
 * View links: a compact, PHI-free string that restores a view.
 *
 * `daw:` + URL-safe base64 (no padding) of compact JSON with fixed key order:
 * {"v":1,"s":series hash,"p":plane,"k":slice,"w":[center,width],"z":zoom,"c":[panX,panY],
 *  "r":rotation,"f":[flipH,flipV]}, and after them "i":1 for an inverted view, "m":plane shown
 * for a coronal or sagittal reformat and "b":slab for a maximum intensity projection ("p" is
 * the plane the series was acquired in). Numbers are rounded the same way in Python
 * (`dicom_annot_widget/widget/links.py`), so both sides produce the very same string.
 * The series is identified by a hash of its SeriesInstanceUID, never by names.
 */

export const LINK_PREFIX = "daw:";
export const LINK_VERSION = 1;

export interface ViewLink {
  series: string;
  plane: string;
  slice: number;
  window: [number, number];
  zoom: number;
  pan: [number, number];
  rotation: number;
  flip: [boolean, boolean];
  /** the grey scale inverted (absent from the link when false) */
  invert?: boolean;
  /** the plane shown, in the label document's names (absent when "axial") */
  viewPlane?: string;
  /** slices in the maximum intensity projection (absent when 1) */
  slab?: number;
}

/** Round half up to `digits` decimals; integers come out as integers ("-0" as 0). */
export function roundNumber(x: number, digits: number): number {
  const f = 10 ** digits;
  const r = Math.floor(x * f + 0.5) / f;
  return r === 0 ? 0 : r;
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

export function encodeLink(link: ViewLink): string {
  const body = {
    v: LINK_VERSION,
    s: link.series,
    p: link.plane,
    k: Math.round(link.slice),
    w: [roundNumber(link.window[0], 3), roundNumber(link.window[1], 3)],
    z: roundNumber(link.zoom, 4),
    c: [roundNumber(link.pan[0], 3), roundNumber(link.pan[1], 3)],
    r: roundNumber(link.rotation, 3),
    f: [link.flip[0] ? 1 : 0, link.flip[1] ? 1 : 0],
    ...(link.invert ? { i: 1 } : {}),
    ...(link.viewPlane && link.viewPlane !== "axial" ? { m: link.viewPlane } : {}),
    ...(link.slab && link.slab !== 1 ? { b: Math.round(link.slab) } : {}),
  };
  return LINK_PREFIX + toBase64Url(JSON.stringify(body));
}

function finite(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`view link: ${what} must be a number`);
  return v;
}

function pair(v: unknown, what: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) throw new Error(`view link: ${what} must be a pair of numbers`);
  return [finite(v[0], what), finite(v[1], what)];
}

/** Parse a link; throws an Error saying what is wrong. */
export function decodeLink(text: string): ViewLink {
  const t = text.trim();
  if (!t.startsWith(LINK_PREFIX)) throw new Error(`view link must start with '${LINK_PREFIX}'`);
  let body: unknown;
  try {
    body = JSON.parse(fromBase64Url(t.slice(LINK_PREFIX.length)));
  } catch {
    throw new Error("view link is not valid (corrupted or truncated)");
  }
  if (typeof body !== "object" || body === null) throw new Error("view link is not valid");
  const b = body as Record<string, unknown>;
  if (b.v !== LINK_VERSION) throw new Error(`view link version ${String(b.v)} is not supported`);
  if (typeof b.s !== "string" || typeof b.p !== "string") throw new Error("view link lacks its series");
  const slice = finite(b.k, "slice");
  if (!Number.isInteger(slice) || slice < 0) throw new Error("view link: slice must be a non-negative integer");
  const flip = pair(b.f, "flip");
  const invert = b.i ?? 0;
  if (invert !== 0 && invert !== 1) throw new Error("view link: invert must be 0 or 1");
  const viewPlane = b.m ?? "axial";
  if (viewPlane !== "axial" && viewPlane !== "coronal" && viewPlane !== "sagittal") throw new Error("view link: plane shown must be axial, coronal or sagittal");
  const slab = b.b ?? 1;
  if (typeof slab !== "number" || !Number.isInteger(slab) || slab < 1) throw new Error("view link: slab must be a positive integer");
  return {
    series: b.s,
    plane: b.p,
    slice,
    window: pair(b.w, "window"),
    zoom: finite(b.z, "zoom"),
    pan: pair(b.c, "pan"),
    rotation: finite(b.r, "rotation"),
    flip: [flip[0] !== 0, flip[1] !== 0],
    invert: invert === 1,
    viewPlane,
    slab,
  };
}
