/**
 * Exit statuses of `strata run` / `start -a`, as docker's: the program's own status when it
 * ran; otherwise one of these.
 */
export const EXIT = {
  /** Strata itself failed (bad flags, a missing image, a store error). */
  RUNTIME_ERROR: 125,
  /** The entrypoint exists but is not a runnable module (not `\0asm`, invalid, traps at start-up). */
  NOT_RUNNABLE: 126,
  /** The entrypoint does not exist in the container's file system. */
  NOT_FOUND: 127,
  /** Killed: `kill`, or `--timeout` ran out (128 + SIGKILL). */
  KILLED: 137,
} as const;

/** An error that maps to an exit status and one line for the user (no stack trace). */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  constructor(message: string, readonly exitCode: number = EXIT.RUNTIME_ERROR, options?: { cause?: unknown }) {
    super(message, options);
  }
}
