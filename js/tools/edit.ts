/**
 * Editing vector keyframes, pure: where an object's handles are on screen, which handle a
 * pointer is on, and the geometry after a drag, an inserted or deleted vertex, a move, a box
 * resize, a scissors cut, or a primitive placed from its template. Geometry is voxel
 * (column, row) rounded to 1/1000; results are validated like Python does (polygon >= 3
 * distinct vertices with an area, polyline >= 2, box with an area) and refused with a message.
 */
import { type Keyframe, type OntologyClass, type Point, type Shape, bridgeEdges, pointInPolygon, round3 } from "../labels";
import { type Matrix, apply } from "../render/transform";
import { boxFrom } from "./box";
import { polygonFrom } from "./polygon";
import { polylineFrom } from "./polyline";

/** What a press on an object grabs. */
export type Handle =
  /** polygon / polyline vertex, or the point of a point object (index 0) */
  | { kind: "vertex"; index: number }
  /** the midpoint handle of edge `index` (vertex index -> index + 1): drag inserts a vertex */
  | { kind: "mid"; index: number }
  /** box corner: 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left (x0/y0 = left/top) */
  | { kind: "corner"; index: number }
  /** box side: 0 top (y0), 1 right (x1), 2 bottom (y1), 3 left (x0) */
  | { kind: "side"; index: number }
  /** primitive node */
  | { kind: "node"; id: string }
  /** primitive edge visibility control (with "show controls") */
  | { kind: "edge"; index: number }
  /** on the outline of edge `index` (a click inserts a vertex there; a drag moves the object) */
  | { kind: "segment"; index: number }
  /** inside the object: a drag moves it */
  | { kind: "body" };

export type GeoResult = { geometry: Keyframe } | { error: string };

/** Edge states of a primitive keyframe, in template edge order. */
export const EDGE_STATES = ["visible", "occluded", "invisible"] as const;
export type EdgeState = (typeof EDGE_STATES)[number];

export function nextEdgeState(s: string): EdgeState {
  const i = EDGE_STATES.indexOf(s as EdgeState);
  return EDGE_STATES[(i + 1) % EDGE_STATES.length] as EdgeState;
}

/** The geometry part of a keyframe (no `manual`, no mask fields). */
export function geometryOf(kf: Keyframe): Keyframe {
  if (kf.box) return { box: [...kf.box] };
  if (kf.points) return { points: kf.points.map((p) => [p[0], p[1]] as Point) };
  if (kf.point) return { point: [kf.point[0], kf.point[1]] };
  if (kf.nodes) return { nodes: { ...kf.nodes }, ...(kf.edges ? { edges: [...kf.edges] } : {}) };
  return {};
}

export function sameGeometry(a: Keyframe, b: Keyframe): boolean {
  return JSON.stringify(geometryOf(a)) === JSON.stringify(geometryOf(b));
}

/** Box corners in handle order. */
export function boxCorners(box: readonly [number, number, number, number]): Point[] {
  const [x0, y0, x1, y1] = box;
  return [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ];
}

function mid(a: Point, b: Point): Point {
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

/** The ids of a primitive class's template edges as node pairs. */
export function templateEdges(cls: OntologyClass | undefined): [string, string][] {
  return (cls?.edges ?? []).filter((e) => Array.isArray(e) && e.length === 2) as [string, string][];
}

/** The state of each template edge of a primitive keyframe (visible when not given). */
export function edgeStates(kf: Keyframe, cls: OntologyClass | undefined): string[] {
  const n = templateEdges(cls).length;
  return Array.from({ length: n }, (_, i) => kf.edges?.[i] ?? "visible");
}

/** A handle and its screen position (CSS px). */
export interface PlacedHandle {
  handle: Handle;
  at: Point;
}

export interface HandleOptions {
  /** the object's class (primitive edges) */
  cls?: OntologyClass;
  /** primitive: show the edge visibility controls */
  controls?: boolean;
  /** midpoint handles only on edges at least this long on screen (CSS px) */
  minEdgePx?: number;
}

/** The grab handles of a keyframe on screen, most specific first. */
export function handles(kf: Keyframe, shape: Shape, m: Matrix, opts: HandleOptions = {}): PlacedHandle[] {
  const tr = (p: Point): Point => apply(m, p[0], p[1]) as Point;
  const out: PlacedHandle[] = [];
  if (kf.box) {
    const c = boxCorners(kf.box).map(tr);
    c.forEach((at, index) => out.push({ handle: { kind: "corner", index }, at }));
    c.forEach((at, index) => out.push({ handle: { kind: "side", index }, at: mid(at, c[(index + 1) % 4] as Point) }));
  } else if (kf.points && (shape === "polygon" || shape === "polyline")) {
    const s = kf.points.map(tr);
    s.forEach((at, index) => out.push({ handle: { kind: "vertex", index }, at }));
    const n = s.length;
    const edges = shape === "polygon" ? n : n - 1;
    const minPx = opts.minEdgePx ?? 24;
    // a keyhole ring's bridges (zero-width joins to its holes and parts) are not edges to edit
    const bridges = shape === "polygon" ? bridgeEdges(kf.points) : null;
    for (let index = 0; index < edges; index++) {
      if (bridges?.has(index)) continue;
      const a = s[index] as Point;
      const b = s[(index + 1) % n] as Point;
      if (Math.hypot(b[0] - a[0], b[1] - a[1]) >= minPx) out.push({ handle: { kind: "mid", index }, at: mid(a, b) });
    }
  } else if (kf.point) {
    out.push({ handle: { kind: "vertex", index: 0 }, at: tr(kf.point) });
  } else if (kf.nodes) {
    for (const [id, p] of Object.entries(kf.nodes)) out.push({ handle: { kind: "node", id }, at: tr(p) });
    if (opts.controls) {
      templateEdges(opts.cls).forEach(([s, t], index) => {
        const a = kf.nodes?.[s];
        const b = kf.nodes?.[t];
        if (a && b) out.push({ handle: { kind: "edge", index }, at: mid(tr(a), tr(b)) });
      });
    }
  }
  return out;
}

function segDist(p: Point, a: Point, b: Point): { d: number; t: number } {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2)) : 0;
  return { d: Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy)), t };
}

/**
 * The handle under screen point `s` (CSS px) within `radius` px: a handle point first (the
 * nearest), then an outline segment, then the inside (box, polygon); null when off the object.
 */
export function hitHandle(kf: Keyframe, shape: Shape, m: Matrix, s: Point, radius: number, opts: HandleOptions = {}): Handle | null {
  let best: Handle | null = null;
  let bestD = radius;
  for (const h of handles(kf, shape, m, opts)) {
    const d = Math.hypot(h.at[0] - s[0], h.at[1] - s[1]);
    if (d <= bestD) {
      best = h.handle;
      bestD = d;
    }
  }
  if (best) return best;
  const tr = (p: Point): Point => apply(m, p[0], p[1]) as Point;
  const outline: Point[] = kf.box ? boxCorners(kf.box).map(tr) : kf.points ? kf.points.map(tr) : [];
  const closed = Boolean(kf.box) || shape === "polygon";
  const n = outline.length;
  const bridges = shape === "polygon" && kf.points ? bridgeEdges(kf.points) : null;
  for (let index = 0; index < (closed ? n : n - 1); index++) {
    if (bridges?.has(index)) continue;
    if (segDist(s, outline[index] as Point, outline[(index + 1) % n] as Point).d <= radius) {
      return kf.box ? { kind: "body" } : { kind: "segment", index };
    }
  }
  if (closed && n >= 3 && pointInPolygon(s, outline)) return { kind: "body" };
  return null;
}

/** The point of segment `index` of the outline nearest to voxel point `p`. */
export function projectOnSegment(points: readonly Point[], index: number, p: Point): Point {
  const a = points[index] as Point;
  const b = points[(index + 1) % points.length] as Point;
  const { t } = segDist(p, a, b);
  return [round3(a[0] + t * (b[0] - a[0])), round3(a[1] + t * (b[1] - a[1]))];
}

function pointsResult(points: Point[], shape: Shape): GeoResult {
  const r = shape === "polygon" ? polygonFrom(points) : polylineFrom(points);
  return "error" in r ? r : { geometry: { points: r.points } };
}

const r3 = (p: Point): Point => [round3(p[0]), round3(p[1])];

/** All voxel points of a keyframe. */
export function keyframePoints(kf: Keyframe): Point[] {
  if (kf.box) return boxCorners(kf.box);
  if (kf.points) return kf.points;
  if (kf.point) return [kf.point];
  if (kf.nodes) return Object.values(kf.nodes);
  return [];
}

/**
 * Move a whole keyframe by (dx, dy) voxels, limited so it stays in the image
 * ([-0.5, size - 0.5] on each axis).
 */
export function translate(kf: Keyframe, dx: number, dy: number, columns: number, rows: number): Keyframe {
  const pts = keyframePoints(kf);
  if (pts.length === 0) return geometryOf(kf);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const cx = Math.min(columns - 0.5 - Math.max(...xs), Math.max(-0.5 - Math.min(...xs), dx));
  const cy = Math.min(rows - 0.5 - Math.max(...ys), Math.max(-0.5 - Math.min(...ys), dy));
  const mv = (p: Point): Point => r3([p[0] + cx, p[1] + cy]);
  if (kf.box) {
    const [x0, y0] = mv([kf.box[0], kf.box[1]]);
    const [x1, y1] = mv([kf.box[2], kf.box[3]]);
    return { box: [x0, y0, x1, y1] };
  }
  if (kf.points) return { points: kf.points.map(mv) };
  if (kf.point) return { point: mv(kf.point) };
  const nodes: Record<string, Point> = {};
  for (const [id, p] of Object.entries(kf.nodes ?? {})) nodes[id] = mv(p);
  return { nodes, ...(kf.edges ? { edges: [...kf.edges] } : {}) };
}

/**
 * The geometry after dragging `handle` of `kf` from voxel point `from` to `to` (both inside
 * the image). `segment` and `body` move the whole object; `mid` inserts a vertex at `to`.
 */
export function dragTo(
  kf: Keyframe,
  shape: Shape,
  handle: Handle,
  from: Point,
  to: Point,
  columns: number,
  rows: number,
): GeoResult {
  const q = r3(to);
  switch (handle.kind) {
    case "vertex": {
      if (kf.point) return { geometry: { point: q } };
      if (!kf.points) break;
      const pts = kf.points.map((p) => [p[0], p[1]] as Point);
      const at = kf.points[handle.index];
      if (!at) break;
      // every copy of the vertex moves: in a keyhole ring both ends of a bridge repeat a
      // vertex, and moving one copy alone would open the bridge into a wedge
      kf.points.forEach((p, i) => {
        if (i === handle.index || (shape === "polygon" && p[0] === at[0] && p[1] === at[1])) pts[i] = q;
      });
      return pointsResult(pts, shape);
    }
    case "mid": {
      if (!kf.points) break;
      const pts = kf.points.map((p) => [p[0], p[1]] as Point);
      pts.splice(handle.index + 1, 0, q);
      return pointsResult(pts, shape);
    }
    case "corner": {
      if (!kf.box) break;
      const opposite = boxCorners(kf.box)[(handle.index + 2) % 4] as Point;
      const r = boxFrom(opposite, q);
      return "error" in r ? r : { geometry: { box: r.box } };
    }
    case "side": {
      if (!kf.box) break;
      const [x0, y0, x1, y1] = kf.box;
      const b: [number, number, number, number] = [x0, y0, x1, y1];
      if (handle.index === 0) b[1] = q[1];
      else if (handle.index === 1) b[2] = q[0];
      else if (handle.index === 2) b[3] = q[1];
      else b[0] = q[0];
      const r = boxFrom([b[0], b[1]], [b[2], b[3]]);
      return "error" in r ? r : { geometry: { box: r.box } };
    }
    case "node": {
      if (!kf.nodes || !(handle.id in kf.nodes)) break;
      return { geometry: { nodes: { ...kf.nodes, [handle.id]: q }, ...(kf.edges ? { edges: [...kf.edges] } : {}) } };
    }
    case "segment":
    case "body":
      return { geometry: translate(kf, to[0] - from[0], to[1] - from[1], columns, rows) };
    case "edge":
      return { geometry: geometryOf(kf) };
  }
  return { error: "that handle does not belong to this object" };
}

/** Insert a vertex on edge `index` (after vertex `index`) at voxel point `p`. */
export function insertVertex(kf: Keyframe, shape: Shape, index: number, p: Point): GeoResult {
  if (!kf.points) return { error: "only polygons and polylines have vertices to insert" };
  const pts = kf.points.map((v) => [v[0], v[1]] as Point);
  pts.splice(index + 1, 0, r3(p));
  return pointsResult(pts, shape);
}

/** Delete vertex `index`; refused when the shape would have too few vertices. */
export function deleteVertex(kf: Keyframe, shape: Shape, index: number): GeoResult {
  if (!kf.points) return { error: "only polygons and polylines have vertices to delete" };
  const min = shape === "polygon" ? 3 : 2;
  if (kf.points.length <= min) {
    return { error: `a ${shape} needs at least ${min} vertices: delete the object instead (Delete with no vertex chosen)` };
  }
  const bridges = shape === "polygon" ? bridgeEdges(kf.points) : null;
  const n = kf.points.length;
  if (bridges && (bridges.has(index) || bridges.has((index - 1 + n) % n))) {
    return { error: "this vertex ends a join between the outline and a hole (or another part): erase or paint with the brush to change the hole" };
  }
  const pts = kf.points.filter((_, i) => i !== index);
  return pointsResult(pts, shape);
}

/** Set the state of primitive edge `index` (cycling visible -> occluded -> invisible). */
export function cycleEdge(kf: Keyframe, cls: OntologyClass | undefined, index: number): GeoResult {
  if (!kf.nodes) return { error: "only primitives have edges" };
  const states = edgeStates(kf, cls);
  if (index < 0 || index >= states.length) return { error: `no template edge ${index}` };
  states[index] = nextEdgeState(states[index] as string);
  return { geometry: { nodes: { ...kf.nodes }, edges: states } };
}

/**
 * Scissors: remove every vertex of a polygon / polyline inside `region` (a closed voxel
 * polygon: a lasso, or a box's four corners). Refused when none is inside, or when fewer than
 * 3 (polygon) / 2 (polyline) would remain.
 */
export function removeInside(kf: Keyframe, shape: Shape, region: readonly Point[]): GeoResult & { removed?: number } {
  if (!kf.points || (shape !== "polygon" && shape !== "polyline")) {
    return { error: "the scissors cut polygons and polylines: select one first" };
  }
  if (region.length < 3) return { error: "draw a lasso (or a box) around the vertices to remove" };
  const keep = kf.points.filter((p) => !pointInPolygon(p, region));
  const removed = kf.points.length - keep.length;
  if (removed === 0) return { error: "no vertex inside the selection: nothing removed" };
  const min = shape === "polygon" ? 3 : 2;
  if (keep.length < min) {
    return { error: `removing ${removed} vertices would leave ${keep.length}; a ${shape} needs at least ${min}` };
  }
  const r = pointsResult(keep, shape);
  return "error" in r ? r : { ...r, removed };
}

/** Positions of a primitive template's nodes in the unit square (as Python spreads them). */
export function templatePositions(cls: OntologyClass): Point[] {
  const nodes = cls.nodes ?? [];
  const n = nodes.length;
  return nodes.map((node, i) => {
    if (node.position) return [node.position[0], node.position[1]] as Point;
    if (n <= 1) return [0.5, 0.5] as Point;
    const angle = (2 * Math.PI * i) / n - Math.PI / 2;
    return [0.5 + 0.4 * Math.cos(angle), 0.5 + 0.4 * Math.sin(angle)] as Point;
  });
}

/**
 * A primitive keyframe: the class's template (unit square) stretched over the box spanned by
 * voxel points `a` and `b` (any order), every edge visible.
 */
export function placeTemplate(cls: OntologyClass, a: Point, b: Point): GeoResult {
  const nodes = cls.nodes ?? [];
  if (nodes.length === 0) return { error: `the primitive class ${cls.name} has no template nodes` };
  const x0 = Math.min(a[0], b[0]);
  const y0 = Math.min(a[1], b[1]);
  const w = Math.abs(b[0] - a[0]);
  const h = Math.abs(b[1] - a[1]);
  const pos = templatePositions(cls);
  const out: Record<string, Point> = {};
  nodes.forEach((node, i) => {
    const p = pos[i] as Point;
    out[node.id] = r3([x0 + p[0] * w, y0 + p[1] * h]);
  });
  return { geometry: { nodes: out, edges: templateEdges(cls).map(() => "visible") } };
}
