/**
 * Metadata viewer: every element of the current slice's dataset, sequences expandable,
 * searchable by keyword, tag and value. All DICOM text goes into the page with textContent,
 * never as HTML.
 */

export interface MetaElement {
  /** "(gggg,eeee)" */
  tag: string;
  keyword: string;
  vr: string;
  /** display text of the value ("" for sequences) */
  value: string;
  /** sequence items, each a list of elements */
  items: MetaElement[][];
}

const MAX_VALUE_CHARS = 2000;

export function formatTag(tag: unknown): string {
  if (typeof tag === "number" && Number.isInteger(tag)) {
    const h = (tag >>> 0).toString(16).padStart(8, "0").toUpperCase();
    return `(${h.slice(0, 4)},${h.slice(4)})`;
  }
  const s = String(tag ?? "").toUpperCase();
  const hex = s.replace(/[^0-9A-F]/g, "");
  if (hex.length === 8) return `(${hex.slice(0, 4)},${hex.slice(4)})`;
  return s;
}

function valueText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return v.map(valueText).join("\\");
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    // DICOM JSON person names: {"Alphabetic": "..."}
    if (typeof o.Alphabetic === "string") return o.Alphabetic;
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  }
  return String(v);
}

function itemsOf(raw: Record<string, unknown>): unknown[] | null {
  const src = raw.items ?? ((raw.VR ?? raw.vr) === "SQ" ? raw.value : undefined);
  return Array.isArray(src) ? src : null;
}

/** Tolerant conversion of the kernel's JSON tree into display elements. */
export function normaliseElements(raw: unknown, depth = 0): MetaElement[] {
  const list = Array.isArray(raw)
    ? raw
    : typeof raw === "object" && raw !== null && Array.isArray((raw as { elements?: unknown }).elements)
      ? ((raw as { elements: unknown[] }).elements)
      : [];
  const out: MetaElement[] = [];
  for (const r of list) {
    if (typeof r !== "object" || r === null) continue;
    const e = r as Record<string, unknown>;
    const items = depth < 16 ? itemsOf(e) : null;
    let value = items ? "" : valueText(e.value);
    if (value.length > MAX_VALUE_CHARS) value = `${value.slice(0, MAX_VALUE_CHARS)}…`;
    out.push({
      tag: formatTag(e.tag),
      keyword: typeof e.keyword === "string" && e.keyword ? e.keyword : typeof e.name === "string" ? e.name : "",
      vr: String(e.VR ?? e.vr ?? ""),
      value,
      items: items ? items.map((it) => normaliseElements(it, depth + 1)) : [],
    });
  }
  return out;
}

function matches(e: MetaElement, q: string): boolean {
  if (e.keyword.toLowerCase().includes(q) || e.value.toLowerCase().includes(q)) return true;
  const tag = e.tag.toLowerCase();
  if (tag.includes(q)) return true;
  const bare = tag.replace(/[^0-9a-f]/g, "");
  const qBare = q.replace(/[(),\s]/g, "");
  return qBare.length >= 2 && /^[0-9a-f]+$/.test(qBare) && bare.includes(qBare);
}

/**
 * Elements matching `query` (case-insensitive, in keyword, tag in any spelling, or value),
 * with the sequences that contain matches (only their matching items). An element that
 * matches keeps all its children. An empty query returns everything.
 */
export function filterElements(elements: MetaElement[], query: string): MetaElement[] {
  const q = query.trim().toLowerCase();
  if (!q) return elements;
  const out: MetaElement[] = [];
  for (const e of elements) {
    if (matches(e, q)) {
      out.push(e);
      continue;
    }
    const items = e.items.map((item) => filterElements(item, q)).filter((item) => item.length > 0);
    if (items.length > 0) out.push({ ...e, items });
  }
  return out;
}

export function countElements(elements: MetaElement[]): number {
  let n = 0;
  for (const e of elements) {
    n += 1;
    for (const item of e.items) n += countElements(item);
  }
  return n;
}

function span(cls: string, text: string, parent: HTMLElement): HTMLSpanElement {
  const s = document.createElement("span");
  s.className = cls;
  s.textContent = text;
  parent.append(s);
  return s;
}

function row(e: MetaElement, parent: HTMLElement): HTMLElement {
  const r = document.createElement("div");
  r.className = "daw-meta-row";
  span("daw-meta-tag", e.tag, r);
  span("daw-meta-kw", e.keyword || "(private)", r);
  span("daw-meta-vr", e.vr, r);
  const v = span("daw-meta-value", e.items.length ? `${e.items.length} item${e.items.length === 1 ? "" : "s"}` : e.value, r);
  v.title = e.value;
  parent.append(r);
  return r;
}

/** Build the DOM of an element list (text only, via textContent). */
export function renderElements(elements: MetaElement[], parent: HTMLElement, open: boolean): void {
  for (const e of elements) {
    if (e.vr !== "SQ" && e.items.length === 0) {
      row(e, parent);
      continue;
    }
    const det = document.createElement("details");
    det.className = "daw-meta-seq";
    det.open = open;
    const summary = document.createElement("summary");
    det.append(summary);
    row(e, summary);
    e.items.forEach((item, i) => {
      const itemDet = document.createElement("details");
      itemDet.className = "daw-meta-item";
      itemDet.open = open;
      const s = document.createElement("summary");
      s.textContent = `Item ${i + 1}`;
      itemDet.append(s);
      renderElements(item, itemDet, open);
      det.append(itemDet);
    });
    parent.append(det);
  }
}
