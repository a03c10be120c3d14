import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capMemory, MemoryLimitError, ModuleFormatError, PAGE } from '../src/memory-limit.js';

const hello = readFileSync(new URL('../../examples/hello/hello.wasm', import.meta.url));

/** (module (memory 2) (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)) */
const growModule = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, // type: (i32) -> i32
  0x03, 0x02, 0x01, 0x00, // func 0 : type 0
  0x05, 0x03, 0x01, 0x00, 0x02, // memory: min 2, no max
  0x07, 0x08, 0x01, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00, // export "grow"
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b, // code
]);

describe('capMemory', () => {
  it('makes memory.grow fail past the cap, as the spec says growth fails', () => {
    const capped = capMemory(growModule, 4 * PAGE);
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(capped));
    const grow = exports.grow as (n: number) => number;
    expect(grow(2)).toBe(2); // 2 -> 4 pages: allowed
    expect(grow(1)).toBe(-1); // 5 pages: over the cap
  });

  it('leaves an uncapped module growing', () => {
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(growModule));
    expect((exports.grow as (n: number) => number)(10)).toBe(2);
  });

  it('refuses a module whose initial memory is above the cap', () => {
    expect(() => capMemory(growModule, PAGE)).toThrow(MemoryLimitError);
  });

  it('takes a cap past 4 GiB as no cap beyond what wasm32 allows', () => {
    for (const gib of [4, 5, 64]) expect(() => new WebAssembly.Module(capMemory(hello, gib * 2 ** 30)), `${gib} GiB`).not.toThrow();
  });

  it('keeps a real program valid', () => {
    const capped = capMemory(hello, 64 * 2 ** 20);
    expect(WebAssembly.validate(capped)).toBe(true);
  });

  it('refuses bytes that are not a module', () => {
    expect(() => capMemory(new TextEncoder().encode('#!/bin/sh\n'), PAGE)).toThrow(ModuleFormatError);
  });
});
