/**
 * Device numbers as Linux's dev_t holds them (glibc's makedev): what `stat` reports for a
 * device node, and so what a layer imported from a directory (`importDirectory`) records.
 * A tar names major and minor apart; a layer entry keeps the one number. The encoding keeps
 * the low 8 bits of the minor and 12 of the major where the old 16-bit dev_t had them, so
 * small numbers read as `major << 8 | minor`, and larger ones do not collide.
 *
 * Arithmetic, not bit operators: the number passes 32 bits once the minor reaches 2^12 or
 * the major 2^12. Exact for majors below 2^21 (MAX_DEV_MAJOR; the kernel's stop at 2^12)
 * and minors below 2^32.
 */
export function makeDev(major: number, minor: number): number {
  return (minor % 2 ** 8) + (major % 2 ** 12) * 2 ** 8 + Math.floor(minor / 2 ** 8) * 2 ** 20 + Math.floor(major / 2 ** 12) * 2 ** 44;
}

export function devMajor(dev: number): number {
  return (Math.floor(dev / 2 ** 8) % 2 ** 12) + Math.floor(dev / 2 ** 44) * 2 ** 12;
}

export function devMinor(dev: number): number {
  return (dev % 2 ** 8) + (Math.floor(dev / 2 ** 20) % 2 ** 24) * 2 ** 8;
}

/** Majors from here on do not fit a dev_t a number holds exactly (see makeDev). */
export const MAX_DEV_MAJOR = 2 ** 21;
/** Minors likewise (dev_t's minor is 32 bits). */
export const MAX_DEV_MINOR = 2 ** 32;
