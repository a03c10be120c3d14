import { describe, expect, it } from 'vitest';
import { FsError, validateName } from '../src/index.js';

describe('validateName', () => {
  it('accepts ordinary names, including 255-byte ones', () => {
    expect(() => validateName('motd', 't')).not.toThrow();
    expect(() => validateName('x'.repeat(255), 't')).not.toThrow();
  });
  it.each(['', '.', '..', 'a/b', 'a\0b'])('refuses %j with EINVAL', (name) => {
    expect(() => validateName(name, 't')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
  it('refuses names over 255 bytes with ENAMETOOLONG, counting UTF-8 bytes', () => {
    expect(() => validateName('x'.repeat(256), 't')).toThrow(FsError);
    expect(() => validateName('é'.repeat(128), 't')).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
    expect(() => validateName('é'.repeat(127), 't')).not.toThrow();
  });
});
