/** The CLI's option values, as docker reads them. */
import { isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeEnv, parseEnv, parseMount, parseSeconds } from '../src/options.js';

describe('options', () => {
  it('takes -e KEY from the caller, and unsets KEY where the caller has none', () => {
    expect(parseEnv('A=b=c')).toBe('A=b=c');
    expect(parseEnv('HOME_X', { HOME_X: '/h' })).toBe('HOME_X=/h');
    expect(parseEnv('NOT_SET', {})).toBe('NOT_SET');
    expect(mergeEnv(['FOO=bar', 'PATH=/bin'], ['NOT_SET', 'FOO', 'X=1'])).toEqual(['PATH=/bin', 'X=1']);
  });

  it('keeps a relative bind mount source as the absolute path it named when given', () => {
    const m = parseMount('data:/mnt:ro');
    expect(isAbsolute(m.host)).toBe(true);
    expect(m.host).toBe(`${process.cwd()}/data`);
    expect(m).toMatchObject({ guest: '/mnt', readOnly: true });
  });

  it('refuses a timeout longer than a timer can wait', () => {
    expect(parseSeconds('2147483')).toBe(2147483);
    expect(() => parseSeconds('2200000')).toThrow(/at most 2147483 seconds/);
  });
});
