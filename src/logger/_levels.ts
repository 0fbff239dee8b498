// Log levels: the five ordered severities of twisted.logger, and the error for unknown ones.

/**
 * Thrown when a name or value is not one of the five log levels.
 *
 * @example
 * ```ts
 * try { LogLevel.levelWithName("verbose"); } catch (e) { e instanceof InvalidLogLevelError; }
 * ```
 */
export class InvalidLogLevelError extends Error {
  override readonly name = "InvalidLogLevelError";
  /** Stable code for programmatic checks. */
  readonly code = "ERR_INVALID_LOG_LEVEL";
  /** The rejected name or value. */
  readonly level: unknown;

  constructor(level: unknown) {
    super(
      `Invalid log level: ${typeof level === "string" ? JSON.stringify(level) : String(level)}`,
    );
    this.level = level;
  }
}

/**
 * A log level. There are exactly five instances, ordered from least to most severe:
 * `debug` < `info` < `warn` < `error` < `critical`. Compare them with {@link LogLevel.isAtLeast}
 * or by their numeric `value`.
 *
 * @example
 * ```ts
 * const level = LogLevel.levelWithName("warning"); // LogLevel.warn
 * level.isAtLeast(LogLevel.info); // true
 * ```
 */
export class LogLevel {
  /** Information only useful while debugging. */
  static readonly debug = new LogLevel("debug", 0);
  /** Informational messages about normal operation. */
  static readonly info = new LogLevel("info", 1);
  /** Something looks wrong, but the system carries on. */
  static readonly warn = new LogLevel("warn", 2);
  /** Something failed; the system may carry on in a degraded way. */
  static readonly error = new LogLevel("error", 3);
  /** Something failed and needs attention now (e.g. an unhandled error). */
  static readonly critical = new LogLevel("critical", 4);

  /** All levels, least severe first. */
  static readonly levels: readonly LogLevel[] = Object.freeze([
    LogLevel.debug,
    LogLevel.info,
    LogLevel.warn,
    LogLevel.error,
    LogLevel.critical,
  ]);

  /** The level's name: `"debug"`, `"info"`, `"warn"`, `"error"` or `"critical"`. */
  readonly name: string;
  /** The level's rank, 0 (debug) to 4 (critical). */
  readonly value: number;

  private constructor(name: string, value: number) {
    this.name = name;
    this.value = value;
    Object.freeze(this);
  }

  /**
   * Returns the level with the given name (case-insensitive; `"warning"` is accepted for `warn`).
   *
   * @throws InvalidLogLevelError when the name is not a level's name
   */
  static levelWithName(name: string): LogLevel {
    const key = String(name).toLowerCase();
    const found = LogLevel.levels.find((level) => level.name === key);
    if (found !== undefined) return found;
    if (key === "warning") return LogLevel.warn;
    throw new InvalidLogLevelError(name);
  }

  /** True when `value` is one of the five levels. */
  static isLogLevel(value: unknown): value is LogLevel {
    return value instanceof LogLevel && LogLevel.levels[value.value] === value;
  }

  /** True when this level is as severe as `other`, or more. */
  isAtLeast(other: LogLevel): boolean {
    return this.value >= other.value;
  }

  /** The level's name. */
  toString(): string {
    return this.name;
  }

  /** `<LogLevel=name>` in `util.inspect` output (and so in "Unable to format event" texts). */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `<LogLevel=${this.name}>`;
  }

  /** Levels serialise to JSON as their name. */
  toJSON(): string {
    return this.name;
  }
}
