import { describe, expect, it } from "vitest";
import { CodecError, Scratch, decodeLz4Block, decodeSlice, isEncoding, unshuffle } from "./codec";

/*
 * Fixtures encoded by the Python package `lz4` (the reference LZ4 library), exactly as
 * benchmarks/transport.py encodes a slice (byte planes, then one LZ4 block):
 *
 * import numpy as np, lz4.block, base64
 * n = 64
 * y, x = np.mgrid[0:n, 0:n]
 * i = (y * n + x).astype(np.uint64)
 * noise = (((i * 2654435761) & 0xFFFFFFFF) >> 16) & 0x3FF
 * v = np.where((x - 32) ** 2 + (y - 32) ** 2 < 28 ** 2, (x * x * 31 + y * 17 + x * y * 7) % 997 - 500, -2000)
 * v[:8] = noise[:8].astype(np.int64) - 512
 * v[50:54] = 1234
 * v = v.astype("<i2")
 * planes = v.view(np.uint8).reshape(-1, 2).T.copy()
 * enc = lz4.block.compress(planes, store_size=False)
 * print(base64.b64encode(enc).decode())
 * v8 = np.where((x - 32) ** 2 + (y - 32) ** 2 < 28 ** 2, (x * 3 + y * 5) % 251, 0).astype(np.uint8)
 * enc8 = lz4.block.compress(v8.tobytes(), store_size=False)
 * print(len(enc8)); print(base64.b64encode(enc8).decode())
 *
 * The int16 block has literal runs longer than 270 bytes (two length bytes), matches longer
 * than 255, and overlapping matches (offset < length).
 */
const INT16_64X64 =
  "+v/2ADdupt0VTIS78ypimdEIQHev5h5VjMT7M2qi2RFIgLfvJl6VzQQ8c6viGVGIwPcvZp7VDUR8s+siWpHJADdvpt4VTYS8" +
  "8ytimtEJQHiv5x5WjcT8M2ui2hFJgLjvJ16WzQU8dKvjGlGJwPgvZ57WDUV8tOsjWpLJAThvp94WTYW89CtjmtIJQXiw5x9W" +
  "jsX8NGuj2hJJgbjwJ1+WzgU9dKzjG1KJwfgwZ5/WDkV9tOwjW5LKATlwp98WToW99Cxjm9IKQXmw6B9Xjsb9NGyj2xJKgbnw" +
  "KF+XzgY9dazkG1OKwfkwaJ/XDkZ9tewkW5PKAjlxqN8XToa99Sxkm9MKQnmx6CBXj8b+NWyk2xNKgrnxKGCXzwY+da3kHFOL" +
  "wvkxaKDXD0Z+te0kXJPLAjpxqeAXT4a+9S1knNMLQnqx6SBYj8f+Nm2k3BNLgrrxKWCYzwc+dq3lHFSLwvoxaaDYD0d+tu0l" +
  "XJTLAzpyqeEYT4e+9i1lnNQLQ3qy6SFYkMf/Nm6l3BRLg7ryKWGY0Ac/dq7lHVSMw/oyaaHYEEd/tu4lXZTMAztyquEZUIe/" +
  "9i5lndQMQ3uy6iFZkMj/N26m3RRMg7vyKmGZ0Ag/d67mHVWMxPsyaqHZEEh/t+4mXZXMBDtzquIZUYi/9y5mndUMRHuz6iJZ" +
  "kcgAN2+m3hVMhLswMDAwBAD4Dum3wyiwdpXXcktinC8AD1zny9IXtXaQzWM3Ln4MKQAPAgAD/xDheE1gzFtDTrI5GTeTLeob" +
  "bwHR30bQmLkYmnWOyl8yNQADBQIA9RTnCWkH4xhwBvUHchvnDG8Q7wxnANfsWuvV4kjRs9Mxzae/FSwADwIAAP8WdmGK8ZZ5" +
  "tRSxp8Ay4rXhS/PZ/V//3RRuIfcmeCMMGH0gASB9GDgAAAMCAPMYNenbC3klKlK4d1mU8qmetifWw+5XGf4hgjwZT6haSnjJ" +
  "c1uB5aKCLgANAgD9GiShXFWMAbTA71wiC02ycGymHrmt32oYBC6xV1Z485GIvTDh0P1oEfg4OgABAgDxHF6JDc/PDYleVowb" +
  "zb0GjTc6e/q3sutiFwpWxXJ4oSPjxgJ8NCpe0ICJtR8wAAsCAPserbzueUJJjizt7Cm/eIq/TRkIUNaanNxaFitj2aia5VMa" +
  "H2LIh4S/Uwr/Mr5tPADyIjAwMDAEGm7ltcMqtHyCxmMjPHgN4NYlsn2GzVIwMXDtw7wOnlFdpy/1+Tu7eXXKQhMzAAgCAPgg" +
  "fFt402xDWKs8Cxh+B87uTM2nvxWOYHC+ZS83fRze+TfOo5vse0hTnCPoBkfGnpk7APImMDAwMD/MstY42LbSLMSarhurlKAF" +
  "jW6N6oVedcpdLj2lMBQbe/7a9EzHm60YpnJ8xGUpRoY3AAUCAPUiiDcJNJ1EKUytTClfuE8/Ur5oNVu/YUFfu1UtXrJELz2k" +
  "SREykS4JInkO4Q1c6c/YOjoAAQIA8SRZ0YdgkgKwnMYu1Lj1VQ7qH3coFymUPSRJrE1HZL9zSnrNeWNw1npcfNp2a4PZiFqF" +
  "03o4AAQCAPQkmxrXt/BnHA9Ar1xii/KyldEw6N4SaRkHM51gRmrMh2WcEamayTbGr9ZW+dr5cQzlF4caOwDyKjAwMDCw3WMn" +
  "KU7MiIK6MOTxIY9WQIPpqKXgWRDqOKlYRXD0m5u+OtnRB3stHUu3YUmK7pCLqSDVrTsAAQIA8SbrOqx3gKwx9PU0sYeAt0f6" +
  "6zW9aGyuLuzoIppQRJEBr7bgYyQjRcB5cKUYydMAay8WVrl1bzoAAgIA8iYmfPXH1yWWYGiuTQ8PTeSesed2QzN8A8jLDItI" +
  "XpcO3tEdjFRaniDFwxqUTEJ2A7O86G0wFjsA8iwwMDAwXWG+PhcugxbM20POl57jgUJcmS8DFUrYpK72fFtdnTby7D/QhJHc" +
  "ZSwxdPW0sQeAUkeVBtDYHj0A8SswMDCRnACHZ4Xhe1NpvU8fLZQe5gdm6MPcM62AkeCIU1yjQwYiYfnPyBqqeITOVjc7fRjW" +
  "0ie6cH/MPAD2KzAwMDDF10LQt9w/4L/cN9CnvCq7pbIYoYOjAZ13j+V5S1vEUDU9niL/GnPvxNdD0p+qDpVaeLlTK0HCAfIo" +
  "+RKENAcznUUrT7FRL2bAWEldynVDas9yU3LPakN1yl1JWMBmL1GxTytFnTMHNIQS+QNm7MvoQ30A8SswMDAtTcZ9V4r7qpfC" +
  "K9K39VYQ7SN8Lh4xnUcvVblbVnTQhV2O4o96iO+Ud5j3lIqj+qp9qfigho/xPADyLDAwMDBhiAjGp+FZDwM1pVNahOytkc4u" +
  "594TaxwLOKNnTnPWknGpH7iq2kjZw+tsEPISiyccNKU5JlG6PQDxKzAwMJXDSg8SOLd0b6gf1OITgko1eeCgntpUDOc2qFhG" +
  "cvefoMRB4doRhjkqWcZxWpwBpKC/N+3G+Gg8APIsMDAwMMkZjFhijxXZ2xuZcGqiM+fZJK1ZXqEi4d4Zkkk+jP2stN9jJSVI" +
  "xH52rCDS3Qt3PCRlyYaBujE9APErMDAw/VTOobLmcz5Hji7x8jHJhJjPXy0eaPC2uvx8OlGLA9TIFYVOVZodw8IalU5Fegi5" +
  "w/B2OiFh3zwA8iwwMDAwMY8Q6gJY0aOzHKhyesBfITx6EebeL76Llt9mRkmKJOHcMMJ3hdFbIylt76+tBH5RR5YI09wjjT0A" +
  "8SswMDBlylIzUq9KIzqPIvMCavW+4EDDn7kRjGBywms3QYkq7gtL5Lu1CJlodcBJKzBzD87LIbVsfMpWPADyLDAwMDCZBZR8" +
  "ogaoiKYCnHSK+Yt2hOt1WHnYdVBpwFUoOaMwFh+BBuQAWtetwS6+jJjihUtqrEcgN3EEPQDxKzAwMM1A1sXyXQbtEnUW9S2I" +
  "IRMolkIROZ9DJUWjPxlMojYjM5xDDTCRMA0ogRjtG2z74+5S2bnXM808APIsMDAwMAF7Mw5CtGRSfuiQdrUXt7DMQfTK+WYR" +
  "+iGGKSVEoVcwYrdlUWDIblJ01HJpg9uMYI3dhm132ns9APErMDAwNbZ1V5ILwrfqWwoSPaZoTYvspp65Ld/P/WkuFjygXT12" +
  "0od6qxqsl8BC58rrZQLdEYMYBjKcRDwAAQIA9iXxt6DiYiAcVs6Ek8U1/uovl1hXlA+tpNlnGAc0umNligipo9tRBfcnlUEr" +
  "btR4dZUOxZ/S/wLxKDAwLPnpMrl+gcJBGRRNxJSH010KEFTWlpTQSgL4R7lpcp4j5swLiEM8c+ibp9ZDCfI0mVdTjep6AAIC" +
  "APImZztNghDc5i60k5XVbio/dwi8yRSdZGmsLezpP7iKf80+CBBWv4GBv1YQCD7Nf4q4P+nsLaw7AAICAPYjfZbSZzpLmkIN" +
  "Fl39wNwbs4mC1GQyPogQ1vU3t5CM4XQqOYYR2uEmqWppwTwQB1fKlqB+AfIoMDAwML/fPb6YsCG1h5fljFZ5v147VpQrABNk" +
  "DtvmL9GWtPWPZ2K2SBgmcvzE5SmrhoTbcCg5iDkABAIA9CIojTARMI0oARiIG+wWfgntD28Nzuhb8cXXQtCcwSSqiabmf1Zr" +
  "vmo5RpE1/Bxf+9XSOQADAgD8IXHdh2+V+Zt7mRCqnbMitJ/IL9S32DfUr8g6z73OOMWrzzHRr8slvZOnFKSNmf6GZwAH8yEw" +
  "Ld7N+mUO9TWYOTNQxnpRge+bha0Tt5nUMs7D20z7zfhhCO0QcRDtI3wuAzGCLBR3AAcCAPceNStf0YFvtiDIye1qJR46r2JT" +
  "gu+ansUq6MkDYBYKPJE/K1W9fmKE5J15riG3OAAEAgD0HoyJxD306Teocl+lDtDQDm8pIVfLmIi2PefPEI8xLGXckYS1JNG8" +
  "5WcMCiulXTUALzDSAQDsBQkBAgIA8hRmvGs9aLZdQmWrSidCm00iNYYw/SNsDu4MTee/1Sm7prQApSkADwIABv8Q88z+bgHt" +
  "F38l7iuLKQUfkigXKZQiCS6RMhEuiSL5DjgABgUCAPUOdpQLpZjJOOXQ+WAF6CSDIBYvoVEkULpiSGzObkwmAA8CAAn/Cahk" +
  "Q3vxpZfHNeHLDnQzFVCuZVpy45J/qjYKAA8CAAT/Bu4tqmVelQq9yfhlKxRWu3l1ryfCtiwABA8CAAT/ACUlY9+0rOJxIy5c" +
  "442Q0SYABA8CAO6p/gD+AP4B/wH/AQkAFAASAAoJABT/EgAKCQABQQAPSgAEBVwACkoAHwBKABEPUwAbCpQABRIACp0AD1MA" +
  "BA+dABIPUwAECjoBD/AAkwWmAB34AQBB/v8A/v4BMf/+AQEAMf7/Aa0BTf4BAAAuAA0CADH+/wAvAKL+AQD//v4B/v7/UAAS" +
  "/lAADTAACgIA8QH+//8AAP7/Af4B//4AAP//EAAhAf+hAXoA///+/v7/MQAKAgAx////fwABlQFEAQAA/z8AAn8AagAAAAAA" +
  "ATMACAIAEQAvACL+/50Cgf4BAQAAAAH+TwAGEAEPggAHEQFfABEBPgEBMABI/gEBARABAcAAHwB1AQFB+Pj4+HAAATEAM/7/" +
  "AUABEf4/AAFPAAEfAAGRAB//wwACAV8BNwEB/q8BAw8BAdAABMAAX/7//wH+yAEBAfEAEQFxAAhwAAHBAAOQABH/zgEvAf7C" +
  "AAEB7wER/j8AIv4A7wEBQAKF/v8AAf8A/gF/AU4B/wABwgAF3wECLwASAEABBFAAAoACAU8BAVAADkEABO8ABC8BDxAABxEA" +
  "4AELRwICnwACLwIa/i8CAS8ABz8CBBAAArUBAwIAAbABBJ8BAkoFAv8AAz8BAYACBMAAWf4AAQD+xAEB7gABQQAmAQFvAgI/" +
  "AwGRACIA/84CAd8CA58BA3sAQfj4+PhfACEBAT8ABj8CBa8BHwFgAAICOwABAgAhAP6tAwOvAAXvAAMPAxQBjwEBXgIBzwEo" +
  "AP+AAAXuAwafAQIvBAI/AgTPAgPAAAKPAjH//v57AAH6AgNgAATvAREBYQAFkAACeAUBjgMCfwEDjwICPQAFQAABXgMHPwIF" +
  "PwMCkAEBIAMY/t4EATwAAYAAAf8BA58AAr8DD08CChH+UQEGQwIGbwIRAD4BAo8BCA8CBA8BAsAAAxAAAn0AAv8BAy8ABCAA" +
  "Dz8CBgG+AwNwAQE8AAH/AQHdAwFvAQ8/AhAEzwMGBQQCsAAPPwIFAW8CD58CAQJ9AAZ/AgI/BAFwAQR/AwFPAQ8/AgMHwAEJ" +
  "nwEB3gMRAI8ADz8CCwZCAwLeBAHvARH/sAAJzwIh/wCgAQJfAwIAAgExAAbAAQF/AgQ/AgVfAQFQAAQQAAY/AgKgACf//swG" +
  "AkAAAq0GDz8CDAN+BDcBAP/AAQlvAgWfASMA/wABAy8CBRABBBAAAXwBBUAAAe0GAf8DAiAAAr0GBrAACn4EGACAAxP43gEB" +
  "cAAH7gMBPwABDgQBHgMBXgMB4AABXQcCfAABAgAIrwEBeAkDDgYB8AACjQcFwAAhAf9PAAd/AwN8BgS+BAfuBAK9BwGuAQUO" +
  "BAOQAAc/AgLBAAH9BgKeBgFQAQHPAAJPAQGQAAUOBQFBAAl/ACb4+B8BBt8BC88CA88DAY8ECb4CAQIABy8CEgHPAgMOBRP+" +
  "/QUCUAABnwQBkQABNgAGAgAFQAAJ7AgBLwACPwMEnwICPgUK/gADwgABXAgDLQUBbgUBjgQCfwEDTwIBSwkn/gB8AgUCAAKd" +
  "BQIwAAQQAgcPAgbAAC8B/0AIAgI9BwKfAAH+AAJAAhL+LgIB4AAT/18BB38AHwQBAOwFfwECAgABXgIBgAEEzwIBLgMR/sEB" +
  "AosLAikADwIABgFdAhP/ewsCLgMC7gNO/v7+/3gJDgIAB28CDs4EDi8ADwIAAAJvAwF/AgEPAgT9BgaxBQ8CAA0D7AcBzAUC" +
  "EAEIbwUPAgASA0ABAe8DDy8DAA8CAPBQ+Pj4+Pg=";
const UINT8_64X64 =
  "HwABAP9G/wBkZ2ptcHN2eXx/goWIi45nARv/BmBjZmlsb3J1eHt+gYSHio2Qk5aZnEMAFv8KX2JlaGtucXR3en2Ag4aJjI+S" +
  "lZibnqGkp0IAEiteYbsAz5GUl5qdoKOmqayvskIADw+7AAKvn6KlqKuusbS3ukEADA+7AAavqq2ws7a5vL/CxUIACQ+7AAmf" +
  "tbi7vsHEx8rNQQAHD3YBAQa7AJ+9wMPGyczP0tVBAAUPdgEEBrsAj8jLztHU19rdQQADCjECCHYBBbsAj9DT1tnc3+LlQQAB" +
  "DjECD7sAAI/Y297h5Ofq7UEAAA8xAgEOuwB+4OPm6ezv8kAAB+wCD7sACnzo6+7x9Pf6QQAL7AIPuwAIe/Dz9vkBBAdBAA3s" +
  "Ag+7AAZ69fgAAwYJDEAABKcDD7sAEXkCBQgLDhEUQQAHpwMPuwAPaAoNEBMWGUAACqcDD7sADXcPEhUYGx4hQQAPuwAcZxca" +
  "HSAjJkAAA2IED7sAFWYcHyIlKCtAAAZiBA+7ABRlJCcqLTAzQQAPdgEYArsAZSksLzI1OEAAD7sAHmUuMTQ3Oj1AAAEdBQ+7" +
  "ABpVNjk8P0JAAAMdBQ2nAwPsAgMxAgi7AFU7PkFER0AABB0FBWIEBKcDA+wCAjECAnYBArsAVUBDRklMQAAPuwAfVUVIS05R" +
  "QAAPuwAfVUpNUFNWQAAPuwAfVU9SVVhbQAAB2AUEHQUDYgQDpwMD7AICMQIBdgEBuwBVVFdaXWBAAALYBQQdBQ92AQwBuwBV" +
  "WVxfYmVAAAPYBQ92ARMBuwABJQcFQAAPuwAfAWoGBUAAD7sAHwHgBwVAAA+7AB8BmwgFQAAfAHYBGQG7AEZydXh7PwAfAHYB" +
  "GQG7AEd3en2AQAAP7AIPBnYBAbsAR3x/goVAAB8AMQITBbsASH6BhIc/AB8ApwMJBjECBbsASYOGiYxAAB8ApwMID7sAAA4R" +
  "Cg/sAg0JuwBKio2Qk38ALwAAYgQCD7sABDyPkpU/AC8AAGIEAQ+7AAM+kZSXPwAfAKcDBg27AA/MCgQF2AUBHQUPuwAHP5ib" +
  "nn8AADkAAAAdBQ+7AAYxmp2gLgAPAgAADWIED7sAAS+fojoAAAMCAA+7ABAjoaQsAA8CAAIB2AUPuwAJL6OmOAACBgIABB0F" +
  "D7sAAxalKQAPAgAFAx0FCewCD0IMNA9zAAUNAgAPzAoCDSYADwIACgsRCg8sAAoPAgDjUAAAAAAA";

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** The values the fixtures hold, computed as the Python snippet above computes them. */
function expectedInt16(): Int16Array {
  const n = 64;
  const out = new Int16Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = y * n + x;
      let v = (x - 32) ** 2 + (y - 32) ** 2 < 28 ** 2 ? ((x * x * 31 + y * 17 + x * y * 7) % 997) - 500 : -2000;
      if (y < 8) v = (((Math.imul(i, 2654435761) >>> 0) >>> 16) & 0x3ff) - 512;
      if (y >= 50 && y < 54) v = 1234;
      out[i] = v;
    }
  }
  return out;
}

function expectedUint8(): Uint8Array {
  const n = 64;
  const out = new Uint8Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      out[y * n + x] = (x - 32) ** 2 + (y - 32) ** 2 < 28 ** 2 ? (x * 3 + y * 5) % 251 : 0;
    }
  }
  return out;
}

const bytes = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

describe("decodeLz4Block", () => {
  it("decodes blocks written by the reference LZ4 library", () => {
    const src = fromBase64(UINT8_64X64);
    const out = new Uint8Array(64 * 64);
    decodeLz4Block(src, out);
    expect(out).toEqual(expectedUint8());
  });

  it("expands overlapping matches and one-byte runs", () => {
    // "ab", then a match of 20 at offset 2 (overlapping), then "z"
    const a = new Uint8Array(23);
    decodeLz4Block(new Uint8Array([0x2f, ...bytes("ab"), 2, 0, 1, 0x10, ...bytes("z")]), a);
    expect(String.fromCharCode(...a)).toBe("ab" + "ab".repeat(10) + "z");
    // "x", then a match of 29 at offset 1 (a run), then "y"
    const b = new Uint8Array(31);
    decodeLz4Block(new Uint8Array([0x1f, ...bytes("x"), 1, 0, 10, 0x10, ...bytes("y")]), b);
    expect(String.fromCharCode(...b)).toBe("x".repeat(30) + "y");
  });

  it("rejects truncated input with an error, at every cut", () => {
    const src = fromBase64(INT16_64X64);
    const out = new Uint8Array(64 * 64 * 2);
    for (const cut of [0, 1, 2, 100, src.length >> 1, src.length - 1]) {
      expect(() => decodeLz4Block(src.subarray(0, cut), out)).toThrow(CodecError);
    }
  });

  it("rejects a match reaching before the start of the output", () => {
    expect(() => decodeLz4Block(new Uint8Array([0x10, 65, 9, 0, 0x10, 66]), new Uint8Array(10))).toThrow(
      /match offset 9 at output byte 1/,
    );
    expect(() => decodeLz4Block(new Uint8Array([0x10, 65, 0, 0, 0x10, 66]), new Uint8Array(10))).toThrow(
      /match offset 0/,
    );
  });

  it("rejects output longer or shorter than expected", () => {
    const src = fromBase64(UINT8_64X64);
    expect(() => decodeLz4Block(src, new Uint8Array(64 * 64 - 1))).toThrow(/past the expected 4095 bytes/);
    expect(() => decodeLz4Block(src, new Uint8Array(64 * 64 + 1))).toThrow(/decoded to 4096 bytes, expected 4097/);
  });

  it("ends on garbage with an error, never a hang", () => {
    // deterministic pseudo-random bytes: every one must fail cleanly or fill exactly
    let seed = 12345;
    for (let trial = 0; trial < 200; trial++) {
      const src = new Uint8Array(64);
      for (let i = 0; i < src.length; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        src[i] = seed >>> 24;
      }
      try {
        decodeLz4Block(src, new Uint8Array(256));
      } catch (e) {
        expect(e).toBeInstanceOf(CodecError);
      }
    }
  });
});

describe("unshuffle", () => {
  it("interleaves byte planes of 2-, 4- and 1-byte values, aligned or not", () => {
    const values = new Float32Array([1.5, -2.25, 3e9, 0, 7, -1e-3, 42, 8]);
    const raw = new Uint8Array(values.buffer);
    for (const itemsize of [1, 2, 4]) {
      const n = raw.length / itemsize;
      const planes = new Uint8Array(raw.length);
      for (let i = 0; i < n; i++) for (let b = 0; b < itemsize; b++) planes[b * n + i] = raw[i * itemsize + b] as number;
      const out = new Uint8Array(raw.length);
      unshuffle(planes, itemsize, out);
      expect(out).toEqual(raw);
      const backing = new Uint8Array(raw.length + 1); // odd offset: the byte-wise path
      unshuffle(planes, itemsize, backing.subarray(1));
      expect(backing.subarray(1)).toEqual(raw);
    }
  });

  it("rejects planes that do not match the output", () => {
    expect(() => unshuffle(new Uint8Array(6), 4, new Uint8Array(6))).toThrow(CodecError);
    expect(() => unshuffle(new Uint8Array(8), 2, new Uint8Array(6))).toThrow(CodecError);
  });
});

describe("decodeSlice", () => {
  it("round-trips int16 and uint8 slices encoded by the Python package", () => {
    const scratch = new Scratch();
    const out16 = new Int16Array(64 * 64);
    decodeSlice("lz4-shuffle", fromBase64(INT16_64X64), 2, new Uint8Array(out16.buffer), scratch);
    expect(out16).toEqual(expectedInt16());
    const out8 = new Uint8Array(64 * 64);
    decodeSlice("lz4-shuffle", fromBase64(UINT8_64X64), 1, out8, scratch);
    expect(out8).toEqual(expectedUint8());
  });

  it("leaves the output untouched when the input is corrupt", () => {
    const src = fromBase64(INT16_64X64);
    const out = new Int16Array(64 * 64).fill(7);
    const target = new Uint8Array(out.buffer);
    expect(() => decodeSlice("lz4-shuffle", src.subarray(0, src.length - 3), 2, target)).toThrow(CodecError);
    expect(out.every((v) => v === 7)).toBe(true);
    expect(() => decodeSlice("lz4-shuffle", src, 2, target.subarray(0, 100))).toThrow(CodecError);
    expect(out.every((v) => v === 7)).toBe(true);
  });

  it("knows its encodings", () => {
    expect(isEncoding("lz4-shuffle")).toBe(true);
    expect(isEncoding("zstd")).toBe(false);
    expect(isEncoding(undefined)).toBe(false);
  });
});
