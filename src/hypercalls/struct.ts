/**
 * A small C-struct layout engine: a struct is declared once as an ordered field list with C
 * types, and its offsets are computed with the natural-alignment rules of each 32-bit ABI pvkit
 * guests use. The same declaration feeds the codecs, the named-offset tables, the generated C
 * header and the compile-time `offsetof` checks, so TypeScript and C cannot drift apart.
 *
 * ABIs: i386 System V aligns 64-bit integers to 4 bytes inside structs; MIPS o32 aligns them to
 * 8 (System V i386 psABI §2.1.2 Table 2.1; MIPS o32 "SYSV ABI MIPS supplement" ch. 3).
 */

/** Primitive C types (all little endian on both pvkit arches). */
export type Prim = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64";

/** A field type: primitive, fixed array, nested struct or union. */
export type TypeSpec =
  | Prim
  | { readonly array: TypeSpec; readonly count: number }
  | { readonly struct: StructSpec }
  | { readonly union: StructSpec };

/** A C struct declaration: its tag and ordered fields. */
export interface StructSpec {
  /** C tag, e.g. "start_info". */
  readonly name: string;
  readonly fields: readonly (readonly [string, TypeSpec])[];
}

/** An ABI's alignment rule for 64-bit integers (the only difference between i386 and o32 here). */
export interface Abi {
  readonly name: "i386" | "mips-o32";
  readonly u64Align: 4 | 8;
}
export const ABI_I386: Abi = { name: "i386", u64Align: 4 };
export const ABI_MIPS_O32: Abi = { name: "mips-o32", u64Align: 8 };

/** One field as laid out: byte offset inside the struct, size, and the nested layout if any. */
export interface FieldLayout {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: TypeSpec;
  /** For arrays: element size and count. */
  readonly elementSize?: number;
  readonly count?: number;
  /** For struct/union fields and arrays of them: the nested layout. */
  readonly layout?: StructLayout;
}

/** A struct laid out for one ABI. `offsets` flattens nested structs as "a.b" paths. */
export interface StructLayout {
  readonly name: string;
  readonly abi: Abi;
  readonly size: number;
  readonly align: number;
  readonly isUnion: boolean;
  readonly fields: readonly FieldLayout[];
  readonly offsets: Readonly<Record<string, number>>;
  readonly spec: StructSpec;
}

const PRIM_SIZE: Record<Prim, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, u64: 8 };

function sizeAlign(t: TypeSpec, abi: Abi): { size: number; align: number; layout?: StructLayout } {
  if (typeof t === "string") {
    const size = PRIM_SIZE[t];
    return { size, align: t === "u64" ? abi.u64Align : size };
  }
  if ("array" in t) {
    const e = sizeAlign(t.array, abi);
    return { size: e.size * t.count, align: e.align, layout: e.layout };
  }
  const layout = "struct" in t ? layoutStruct(t.struct, abi) : layoutStruct(t.union, abi, true);
  return { size: layout.size, align: layout.align, layout };
}

/** Lays out `spec` for `abi` with C's natural alignment (no packing). */
export function layoutStruct(spec: StructSpec, abi: Abi, isUnion = false): StructLayout {
  let off = 0;
  let align = 1;
  let size = 0;
  const fields: FieldLayout[] = [];
  const offsets: Record<string, number> = {};
  for (const [name, type] of spec.fields) {
    const sa = sizeAlign(type, abi);
    align = Math.max(align, sa.align);
    const at = isUnion ? 0 : Math.ceil(off / sa.align) * sa.align;
    const field: FieldLayout = {
      name,
      offset: at,
      size: sa.size,
      type,
      ...(typeof type === "object" && "array" in type
        ? { elementSize: sa.size / type.count, count: type.count }
        : {}),
      ...(sa.layout ? { layout: sa.layout } : {}),
    };
    fields.push(field);
    offsets[name] = at;
    if (sa.layout && !(typeof type === "object" && "array" in type)) {
      for (const [sub, o] of Object.entries(sa.layout.offsets)) offsets[`${name}.${sub}`] = at + o;
    }
    if (isUnion) size = Math.max(size, sa.size);
    else off = at + sa.size;
  }
  if (!isUnion) size = off;
  size = Math.ceil(size / align) * align;
  return { name: spec.name, abi, size, align, isUnion, fields, offsets, spec };
}

/** A decoded struct: numbers for ≤32-bit fields, bigint for u64, arrays and nested objects. */
export type StructValue = { [field: string]: FieldValue };
export type FieldValue = number | bigint | FieldValue[] | StructValue;

function readType(t: TypeSpec, layout: StructLayout | undefined, view: DataView, off: number): FieldValue {
  if (typeof t === "string") {
    switch (t) {
      case "u8":
        return view.getUint8(off);
      case "i8":
        return view.getInt8(off);
      case "u16":
        return view.getUint16(off, true);
      case "i16":
        return view.getInt16(off, true);
      case "u32":
        return view.getUint32(off, true);
      case "i32":
        return view.getInt32(off, true);
      case "u64":
        return view.getBigUint64(off, true);
    }
  }
  if ("array" in t) {
    const out: FieldValue[] = [];
    const es = sizeAlign(t.array, layout?.abi ?? ABI_I386).size;
    for (let i = 0; i < t.count; i++) out.push(readType(t.array, layout, view, off + i * es));
    return out;
  }
  return readStruct(layout!, view, off);
}

/** Reads a whole struct from `view` at `off` (little endian). */
export function readStruct(layout: StructLayout, view: DataView, off: number): StructValue {
  const out: StructValue = {};
  for (const f of layout.fields) out[f.name] = readType(f.type, f.layout, view, off + f.offset);
  return out;
}

function writeType(
  t: TypeSpec,
  layout: StructLayout | undefined,
  v: FieldValue | undefined,
  view: DataView,
  off: number,
): void {
  if (v === undefined) return;
  if (typeof t === "string") {
    const n = typeof v === "bigint" ? v : typeof v === "number" ? v : 0;
    switch (t) {
      case "u8":
      case "i8":
        view.setUint8(off, Number(n) & 0xff);
        return;
      case "u16":
      case "i16":
        view.setUint16(off, Number(n) & 0xffff, true);
        return;
      case "u32":
      case "i32":
        view.setUint32(off, Number(n) >>> 0, true);
        return;
      case "u64":
        view.setBigUint64(off, BigInt.asUintN(64, BigInt(n)), true);
        return;
    }
  }
  if ("array" in t) {
    if (!Array.isArray(v)) return;
    const es = sizeAlign(t.array, layout?.abi ?? ABI_I386).size;
    for (let i = 0; i < t.count && i < v.length; i++) writeType(t.array, layout, v[i], view, off + i * es);
    return;
  }
  if (typeof v === "object" && !Array.isArray(v)) writeStruct(layout!, v, view, off);
}

/** Writes the fields present in `value` (absent fields are left untouched). */
export function writeStruct(layout: StructLayout, value: StructValue, view: DataView, off: number): void {
  for (const f of layout.fields) writeType(f.type, f.layout, value[f.name], view, off + f.offset);
}

/** C spelling of a primitive for the generated header. */
export const C_TYPE: Record<Prim, string> = {
  u8: "uint8_t",
  i8: "int8_t",
  u16: "uint16_t",
  i16: "int16_t",
  u32: "uint32_t",
  i32: "int32_t",
  u64: "uint64_t",
};
