// Types for nmframe-port.js: messages of any size over a native-messaging port.

/** The key whose presence as an object's first member marks an envelope frame. */
export const KEY: '$nmframe';
/** The envelope's version: `ack` and `refuse` name the recipient's messages, `abort` the sender's. */
export const VERSION: 2;
/** The largest frame a host may send the browser, in bytes (1 MiB). */
export const HOST_FRAME_LIMIT: 1048576;

export type TransferErrorCode =
  | 'too-large'
  | 'too-many'
  | 'capacity'
  | 'timeout'
  | 'malformed'
  | 'version'
  | 'out-of-order'
  | 'length'
  | 'checksum'
  | 'aborted'
  | 'refused'
  | 'disconnected'
  | 'request-timeout';

/** Why a message did not arrive or could not be sent; the numbers are on the object. */
export class TransferError extends Error {
  readonly code: TransferErrorCode;
  /** The transfer's id (in its sender's numbering), when the error concerns one message. */
  readonly id?: number;
  readonly expected?: number;
  readonly received?: number;
  readonly bytes?: number;
  readonly limit?: number;
  readonly parts?: number;
  readonly inFlight?: number;
  /** For 'refused': the host's code for why. */
  readonly reason?: string;
}

export interface Options {
  /** Largest message accepted, in bytes of UTF-8 text (default 256 MiB): beyond, 'too-large'. */
  maxBytes?: number;
  /** Most messages being reassembled at once (default 16): beyond, 'too-many'. */
  maxInFlight?: number;
  /** Most bytes all messages being reassembled hold together (default 512 MiB): beyond, 'capacity'. */
  maxBuffered?: number;
  /** Longest silence within one incoming message, in ms (default 30000): beyond, 'timeout'. */
  partTimeoutMs?: number;
  /** Longest wait for the host's acknowledgement while sending, in ms (default 30000): beyond, the message is given up with 'timeout'. */
  ackTimeoutMs?: number;
  /** Largest part frame sent, in bytes (default 1 MiB). */
  partBytes?: number;
  /** Largest message sent as it is, in bytes of UTF-8 (default 1 MiB); larger ones go in parts. */
  maxPlainBytes?: number;
  /** Parts in flight before waiting for the host's acknowledgement; 0 for none (default 8). */
  window?: number;
  /** The member a request's id goes in, and its reply's id is read from (default "id"). */
  idKey?: string;
  /** How long request() and sendNativeMessage() wait for the reply, in ms (default 60000). */
  requestTimeoutMs?: number;
  /** What error messages call the other end (default 'host'; a host on js/nmframe-host uses 'extension'). */
  peer?: string;
  /** The runtime to connect through (default browser.runtime or chrome.runtime). */
  runtime?: { connectNative(name: string): RuntimePort };
}

/** The defaults of every option. */
export const DEFAULTS: Readonly<Required<Omit<Options, 'runtime'>>>;

/** The part of runtime.Port this package uses. */
export interface RuntimePort {
  postMessage(message: unknown): void;
  disconnect(): void;
  onMessage: { addListener(fn: (message: any) => void): void };
  onDisconnect: { addListener(fn: (port: any) => void): void };
}

export interface Event<F extends (...args: any[]) => void> {
  addListener(fn: F): void;
  removeListener(fn: F): void;
  hasListener(fn: F): boolean;
}

export interface Progress {
  /** 'in': a message from the host being reassembled; 'out': one being sent in parts. */
  direction: 'in' | 'out';
  /** The message's id, in its sender's numbering. */
  id: number;
  /** Bytes of the message taken (in) or handed to the port (out) so far. */
  bytes: number;
  /** The message's size, when known (always for 'out'). */
  total: number | null;
  parts: number;
}

export class NativePort {
  constructor(port: RuntimePort, options?: Options);
  readonly port: RuntimePort;
  /** Why the port closed, once it has. */
  readonly closed: string | null;
  /** Each whole message, plain or reassembled, that is not a reply to request(). */
  readonly onMessage: Event<(message: any) => void>;
  readonly onProgress: Event<(progress: Progress) => void>;
  /** A message that failed, or the host's refusal of one already sent; the port goes on. */
  readonly onError: Event<(error: TransferError) => void>;
  readonly onDisconnect: Event<(reason: string) => void>;
  /** Sends a value of any size; resolves once every frame is handed to the port. */
  post(message: unknown): Promise<void>;
  /**
   * Sends `message` and resolves with the reply carrying its id under `idKey`: the id the
   * message has, or a fresh one added when it has none.
   */
  request<T = any>(message: object, options?: { timeoutMs?: number }): Promise<T>;
  disconnect(): void;
}

/** runtime.connectNative(name), wrapped. */
export function connectNative(name: string, options?: Options): NativePort;

/** runtime.sendNativeMessage for messages and replies of any size (through a port). */
export function sendNativeMessage<T = any>(name: string, message: unknown, options?: Options): Promise<T>;

/** CRC-32 (IEEE) of `bytes`, continuing from `crc`. */
export function crc32(bytes: Uint8Array, crc?: number): number;

/** The length of `text` in UTF-8, as TextEncoder writes it. */
export function utf8Length(text: string): number;

/** Whether `message` is an envelope frame. */
export function isEnvelope(message: unknown): boolean;

/** The pieces `text` is sent in, each at most `budget` bytes once escaped. */
export function pieces(text: string, budget: number): Generator<string>;
