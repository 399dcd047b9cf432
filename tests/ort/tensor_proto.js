// A small reader/writer for serialized onnx.TensorProto (.pb) files, enough
// for the backend-test layout: dims, data_type, name and the data fields.
'use strict';

const ONNX_TYPES = {
  1: { name: 'float32', size: 4, array: Float32Array },
  2: { name: 'uint8', size: 1, array: Uint8Array },
  3: { name: 'int8', size: 1, array: Int8Array },
  4: { name: 'uint16', size: 2, array: Uint16Array },
  5: { name: 'int16', size: 2, array: Int16Array },
  6: { name: 'int32', size: 4, array: Int32Array },
  7: { name: 'int64', size: 8, array: BigInt64Array },
  9: { name: 'bool', size: 1, array: Uint8Array },
  10: { name: 'float16', size: 2, array: Uint16Array },
  11: { name: 'float64', size: 8, array: Float64Array },
  12: { name: 'uint32', size: 4, array: Uint32Array },
  13: { name: 'uint64', size: 8, array: BigUint64Array },
  16: { name: 'bfloat16', size: 2, array: Uint16Array },
};

function typeByName(name) {
  for (const [code, t] of Object.entries(ONNX_TYPES)) if (t.name === name) return { code: Number(code), ...t };
  throw new Error(`unsupported tensor type '${name}'`);
}

class Reader {
  constructor(buf) { this.buf = buf; this.pos = 0; }
  done() { return this.pos >= this.buf.length; }
  varint() { // as BigInt: int64 fields need all 64 bits
    let result = 0n, shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  }
  bytes(n) {
    if (n < 0 || this.pos + n > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.bytes(8);
    else if (wire === 2) this.bytes(Number(this.varint()));
    else if (wire === 5) this.bytes(4);
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

// Calls fn(value) for each element of a repeated field, packed or not.
function repeated(r, wire, scalarWire, readOne) {
  if (wire === 2 && scalarWire !== 2) {
    const sub = new Reader(r.bytes(Number(r.varint())));
    while (!sub.done()) readOne(sub);
  } else {
    readOne(r);
  }
}

function decodeTensor(buf) {
  const r = new Reader(buf);
  const dims = [], f32 = [], i32 = [], i64 = [], f64 = [], u64 = [], strings = [];
  let dataType = 0, name = '', raw = null;
  while (!r.done()) {
    const key = Number(r.varint());
    const field = key >>> 3, wire = key & 7;
    switch (field) {
      case 1: repeated(r, wire, 0, (s) => dims.push(Number(BigInt.asIntN(64, s.varint())))); break;
      case 2: dataType = Number(r.varint()); break;
      case 4: repeated(r, wire, 5, (s) => f32.push(Buffer.from(s.bytes(4)).readFloatLE(0))); break;
      case 5: repeated(r, wire, 0, (s) => i32.push(Number(BigInt.asIntN(32, s.varint())))); break;
      case 6: strings.push(Buffer.from(r.bytes(Number(r.varint()))).toString('utf8')); break;
      case 7: repeated(r, wire, 0, (s) => i64.push(BigInt.asIntN(64, s.varint()))); break;
      case 8: name = Buffer.from(r.bytes(Number(r.varint()))).toString('utf8'); break;
      case 9: raw = r.bytes(Number(r.varint())); break;
      case 10: repeated(r, wire, 1, (s) => f64.push(Buffer.from(s.bytes(8)).readDoubleLE(0))); break;
      case 11: repeated(r, wire, 0, (s) => u64.push(BigInt.asUintN(64, s.varint()))); break;
      case 13: throw new Error('external tensor data is not supported');
      default: r.skip(wire);
    }
  }
  const numel = dims.reduce((a, b) => a * b, 1);
  if (dataType === 8) { // string tensors (ONNX Runtime takes a plain array of strings)
    if (strings.length !== numel) throw new Error(`${strings.length} strings, shape needs ${numel}`);
    return { name, type: 'string', dims, data: strings };
  }
  const type = ONNX_TYPES[dataType];
  if (!type) throw new Error(`unsupported TensorProto data_type ${dataType}`);
  let data;
  if (raw !== null) {
    if (raw.length !== numel * type.size) throw new Error(`raw_data has ${raw.length} bytes, shape needs ${numel * type.size}`);
    const copy = new ArrayBuffer(raw.length); // aligned copy for the typed array
    new Uint8Array(copy).set(raw);
    data = new type.array(copy);
  } else {
    const source = dataType === 1 ? f32 : dataType === 7 ? i64 : dataType === 11 ? f64
      : (dataType === 12 || dataType === 13) ? u64 : i32;
    if (source.length !== numel) throw new Error(`${source.length} values, shape needs ${numel}`);
    data = new type.array(numel);
    for (let i = 0; i < numel; i++) {
      const v = source[i];
      data[i] = (type.array === BigInt64Array || type.array === BigUint64Array) ? BigInt(v) : Number(v);
    }
  }
  return { name, type: type.name, dims, data };
}

function varintBytes(value) {
  let v = BigInt.asUintN(64, BigInt(value));
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

function encodeTensor(name, typeName, dims, data) {
  const type = typeByName(typeName);
  const parts = [];
  for (const d of dims) parts.push(Buffer.from([0x08, ...varintBytes(d)]));
  parts.push(Buffer.from([0x10, ...varintBytes(type.code)]));
  if (name) {
    const n = Buffer.from(name, 'utf8');
    parts.push(Buffer.from([0x42, ...varintBytes(n.length)]), n);
  }
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  parts.push(Buffer.from([0x4a, ...varintBytes(raw.length)]), raw);
  return Buffer.concat(parts);
}

module.exports = { decodeTensor, encodeTensor, ONNX_TYPES };
