// The draw page of benchmarks/overlay.py: 500 objects on one slice, drawn by drawOverlay and
// by two baselines. Bundled by esbuild (see overlay.py), __OVERLAY__ is js/render/overlay.ts.
import { drawOverlay, voxelMatrix } from "__OVERLAY__";

const W = 760, H = 600, N = 500;
const ontology = {
  objects: ["liver", "lesion", "vessel", "node", "kidney"].map((id, i) => ({
    id, name: id, shape: ["polygon", "bounding_box", "polyline", "point", "polygon"][i],
  })),
};
const objects = [];
for (let i = 0; i < N; i++) {
  const cx = 40 + (i * 37) % 440, cy = 40 + ((i * 53) % 340), r = 8 + (i % 9);
  let shape, feature, kf;
  if (i < 250) {
    shape = "polygon"; feature = i % 2 ? "liver" : "kidney";
    kf = { points: Array.from({ length: 24 }, (_, j) => [cx + r * Math.cos(j / 24 * 2 * Math.PI),
                                                          cy + 0.8 * r * Math.sin(j / 24 * 2 * Math.PI)]) };
  } else if (i < 400) {
    shape = "bounding_box"; feature = "lesion"; kf = { box: [cx - r, cy - r, cx + r, cy + 0.7 * r] };
  } else if (i < 450) {
    shape = "polyline"; feature = "vessel";
    kf = { points: Array.from({ length: 12 }, (_, j) => [cx + 2 * j, cy + 4 * Math.sin(j)]) };
  } else {
    shape = "point"; feature = "node"; kf = { point: [cx, cy] };
  }
  kf.manual = i % 5 !== 0;
  objects.push({ uuid: `u${i}`, object_id: i + 1, feature, shape, plane: "axial", keyframes: { "0": kf } });
}
const items = objects.map((object) => ({ object, keyframe: object.keyframes["0"] }));
const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4"];
const colorOf = new Map(ontology.objects.map((c, i) => [c.id, COLORS[i]]));

function perObject(ctx, m) {
  const [a, b, c, d, e, f] = m;
  ctx.font = "bold 11px sans-serif";
  for (const { object, keyframe: kf } of items) {
    ctx.save();
    ctx.strokeStyle = ctx.fillStyle = colorOf.get(object.feature);
    ctx.lineWidth = 1.5;
    ctx.setLineDash(kf.manual ? [] : [6, 4]);
    const pts = kf.box ? [[kf.box[0], kf.box[1]], [kf.box[2], kf.box[1]], [kf.box[2], kf.box[3]], [kf.box[0], kf.box[3]]]
      : kf.points ? kf.points : [kf.point];
    ctx.beginPath();
    pts.forEach(([x, y], j) => {
      const sx = a * x + c * y + e, sy = b * x + d * y + f;
      if (pts.length === 1) { ctx.moveTo(sx + 3.5, sy); ctx.arc(sx, sy, 3.5, 0, 2 * Math.PI); }
      else if (j === 0) ctx.moveTo(sx, sy); else ctx.lineTo(sx, sy);
    });
    if (object.shape === "polygon" || object.shape === "bounding_box") ctx.closePath();
    if (pts.length === 1) ctx.fill(); else ctx.stroke();
    const [x, y] = pts[0];
    ctx.lineWidth = 3;
    ctx.strokeStyle = "rgba(0,0,0,0.8)";
    ctx.strokeText(String(object.object_id), a * x + c * y + e, b * x + d * y + f - 3);
    ctx.fillText(String(object.object_id), a * x + c * y + e, b * x + d * y + f - 3);
    ctx.restore();
  }
}

function onePathPerColour(ctx, m) {
  // the previous drawOverlay: 1.5 px outlines, all outlines of a colour in one path
  const [a, b, c, d, e, f] = m;
  ctx.font = "bold 11px sans-serif";
  ctx.lineWidth = 1.5;
  ctx.lineJoin = "round";
  const groups = new Map();
  for (const it of items) {
    const key = colorOf.get(it.object.feature) + (it.keyframe.manual ? "" : "|-");
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(it);
  }
  const labels = [];
  for (const [key, list] of groups) {
    const color = key.split("|")[0];
    ctx.strokeStyle = ctx.fillStyle = color;
    ctx.setLineDash(key.endsWith("-") ? [6, 4] : []);
    ctx.beginPath();
    for (const { object, keyframe: kf } of list) {
      const pts = (kf.box ? [[kf.box[0], kf.box[1]], [kf.box[2], kf.box[1]], [kf.box[2], kf.box[3]], [kf.box[0], kf.box[3]]]
        : kf.points ? kf.points : [kf.point]).map(([x, y]) => [a * x + c * y + e, b * x + d * y + f]);
      if (pts.length === 1) { ctx.moveTo(pts[0][0] + 3.5, pts[0][1]); ctx.arc(pts[0][0], pts[0][1], 3.5, 0, 2 * Math.PI); }
      else { pts.forEach(([x, y], j) => (j ? ctx.lineTo(x, y) : ctx.moveTo(x, y))); if (object.shape !== "polyline") ctx.closePath(); }
      labels.push([String(object.object_id), pts[0][0], pts[0][1] - 3, color]);
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgba(0,0,0,0.8)";
  for (const [t, x, y] of labels) ctx.strokeText(t, x, y);
  for (const [t, x, y, col] of labels) { ctx.fillStyle = col; ctx.fillText(t, x, y); }
}

window.runDraw = function (mode, frames) {
  const canvas = document.createElement("canvas");
  canvas.width = W; canvas.height = H;
  document.body.appendChild(canvas);
  const ctx = canvas.getContext("2d");
  const total = [], js = [];
  for (let i = 0; i < frames + 10; i++) {
    const z = 1.2 + 0.002 * (i % 50);
    const m = voxelMatrix([z, 0, 0, z, 10 + (i % 7), 5 + (i % 5)]);
    const t0 = performance.now();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, W, H);
    if (mode === "ours") drawOverlay(ctx, items, m, { ontology, selected: "u7", viewport: [W, H] });
    else if (mode === "baseline_per_object") perObject(ctx, m);
    else if (mode === "baseline_one_path_per_colour") onePathPerColour(ctx, m);
    const t1 = performance.now();
    ctx.getImageData(0, 0, 1, 1);
    const t2 = performance.now();
    if (i >= 10) { total.push(t2 - t0); js.push(t1 - t0); }  // the first frames warm up
  }
  canvas.remove();
  return { total, js };
};
// How many ids drawOverlay writes in the benchmark's first frame (it skips ids that would
// overlap one already written).
window.countIds = function () {
  const canvas = document.createElement("canvas");
  canvas.width = W; canvas.height = H;
  const ctx = canvas.getContext("2d");
  let n = 0;
  const fillText = ctx.fillText.bind(ctx);
  ctx.fillText = (...args) => { n += 1; fillText(...args); };
  drawOverlay(ctx, items, voxelMatrix([1.2, 0, 0, 1.2, 10, 5]), { ontology, selected: "u7", viewport: [W, H] });
  return n;
};
window.drawReady = true;
