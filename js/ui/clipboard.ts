/**
 * Copy / paste of an object between slices (ctrl/cmd+c, ctrl/cmd+v): copy takes the selected
 * object's geometry on the current slice; paste makes it a manual keyframe of the SAME object
 * (same uuid, so the track is kept) on the current slice, replacing a keyframe already there.
 * Only keys: no DOM. The copied geometry stays in this view (never synced, never global).
 */
import { objectPlane } from "../labels";
import type { Keyframe, LabelObject } from "../labels";
import type { EditorApi, Panel } from "../tools/types";
import { isAccel } from "./dom";

/** What ctrl/cmd+c took: an object's geometry on one slice. */
export interface Copied {
  uuid: string;
  objectId: number;
  slice: number;
  geometry: Keyframe;
}

/** Geometry fields of a keyframe that can be pasted (not `manual`, not masks). */
const GEOMETRY_KEYS = ["box", "points", "point", "nodes", "edges"] as const;

/**
 * The geometry of `kf` as a deep copy (box, points, point, nodes, edges), or null when it has
 * none that can be pasted (a bitmask: labels_state carries no mask pixels).
 */
export function copyGeometry(kf: Keyframe): Keyframe | null {
  const out: Keyframe = {};
  let any = false;
  for (const k of GEOMETRY_KEYS) {
    const v = kf[k];
    if (v === undefined || v === null) continue;
    (out as Record<string, unknown>)[k] = JSON.parse(JSON.stringify(v));
    if (k !== "edges") any = true;
  }
  return any ? out : null;
}

/** The toast a paste shows. */
export function pasteMessage(object: LabelObject, slice: number, replaced: boolean): string {
  return replaced
    ? `Pasted #${object.object_id} on slice ${slice + 1}: it replaces the keyframe that was there`
    : `Pasted #${object.object_id} on slice ${slice + 1} (same object, its track continues)`;
}

/** Some text of the page is selected (ctrl+c then copies it, as usual). */
function textSelected(): boolean {
  const sel = typeof window !== "undefined" ? window.getSelection?.() : null;
  return Boolean(sel && !sel.isCollapsed && sel.toString() !== "");
}

export class ClipboardPanel implements Panel {
  private copied: Copied | null = null;

  constructor(private readonly api: EditorApi) {}

  /** What was copied last (for tests and the panel). */
  clip(): Copied | null {
    return this.copied;
  }

  update(): void {}

  key(e: KeyboardEvent): boolean {
    if (isAccel(e, "c")) return this.copy();
    if (isAccel(e, "v")) return this.paste();
    return false;
  }

  private copy(): boolean {
    const api = this.api;
    const uuid = api.selected();
    // no object selected, or text selected (DICOM tags, say): the browser's own copy
    if (!uuid || textSelected()) return false;
    const k = api.slice();
    const item = api.items(k).find((it) => it.object.uuid === uuid);
    if (!item) {
      api.toast("The selected object has no shape on this slice");
      return true;
    }
    const geometry = copyGeometry(item.keyframe);
    if (!geometry) {
      api.refuse("copying bitmask objects between slices is not available");
      return true;
    }
    this.copied = { uuid, objectId: item.object.object_id, slice: k, geometry };
    api.toast(`Copied #${item.object.object_id} (slice ${k + 1})`);
    return true;
  }

  private paste(): boolean {
    const api = this.api;
    const c = this.copied;
    if (!c) {
      api.toast("Nothing copied yet: select an object and press ctrl+c");
      return true;
    }
    if (api.readOnly()) {
      api.refuse("the labels are read-only (review mode): edits are off");
      return true;
    }
    const object = api.object(c.uuid);
    if (!object) {
      this.copied = null;
      api.refuse(`object #${c.objectId} was deleted: nothing to paste`);
      return true;
    }
    // an object's keyframes are slices of its own plane: a reformat's slice number is not
    // one of them (QA 24a D3: an axial box pasted on coronal slice 31 became a keyframe of
    // axial slice 31, where nobody drew)
    const plane = objectPlane(object);
    if (plane !== api.plane()) {
      api.refuse(`#${c.objectId} is drawn on the ${plane} plane: paste it there (this view shows the ${api.plane()} plane)`);
      return true;
    }
    const k = api.slice();
    const replaced = object.keyframes[String(k)] !== undefined;
    if (api.setKeyframe(c.uuid, k, c.geometry)) {
      api.select(c.uuid);
      api.toast(pasteMessage(object, k, replaced));
    }
    return true;
  }
}
