// Types for nmframe-host.js: native-messaging hosts in Node.js.

import { EventEmitter } from 'node:events';
import type { NativePort, Options as PortOptions } from '../nmframe-port/nmframe-port.js';

/** The largest message a host may send the browser: 1,048,576 bytes (exactly 1 MiB is accepted). */
export const HOST_FRAME_LIMIT: 1048576;
/** The largest message Chromium delivers to a host: 64 MiB. */
export const CHROMIUM_INBOUND_LIMIT: 67108864;
/** The protocol's limit for a browser → host message: 4 GiB − 1. */
export const PROTOCOL_INBOUND_LIMIT: 4294967295;
/** The largest message this Node can turn into one string: the inbound cap when the browser is not Chromium. */
export const STRING_LIMIT: number;

export type HostErrorCode =
  | 'too-large'
  | 'empty'
  | 'invalid-utf8'
  | 'invalid-json'
  | 'serialize'
  | 'queue-full'
  | 'truncated-header'
  | 'truncated-payload'
  | 'io';

/** What went wrong, with the numbers; `fatal` when the stream is over, else about one message. */
export class HostError extends Error {
  readonly code: HostErrorCode;
  readonly fatal: boolean;
  /** The message's size in bytes ('too-large', 'invalid-*', 'queue-full', 'empty'). */
  readonly size?: number;
  /** The limit it passed ('too-large', 'queue-full'). */
  readonly limit?: number;
  /** Stream offset of the frame ('too-large' inbound, 'truncated-*'), or payload offset of the bad byte ('invalid-utf8'). */
  readonly offset?: number;
  /** 'truncated-payload': the length the header announced. */
  readonly expected?: number;
  /** 'truncated-*': the bytes that arrived. */
  readonly received?: number;
  /** 'queue-full': the bytes already waiting. */
  readonly queued?: number;
}

/** Who started the host, from its command line. */
export interface Caller {
  browser: 'chromium' | 'firefox' | 'unknown';
  /** Chromium: `chrome-extension://<id>/`. */
  origin: string | null;
  /** Firefox: the absolute path of the host manifest. */
  manifestPath: string | null;
  /** From the origin (Chromium) or the last argument (Firefox). */
  extensionId: string | null;
  /** Chromium on Windows: `--parent-window=<N>`. */
  parentWindow: number | null;
}

/** Parses a command line (`argv[0]` included; default process.argv), read from the end. */
export function callerFrom(argv?: readonly string[]): Caller;

/** FNV-1a, 32 bits: what the echo hosts give for a message they refuse. */
export function fnv1a32(bytes: Uint8Array): number;

export interface HostOptions {
  /** Longest message taken from the browser, in bytes; a longer one is skipped and reported ('too-large'). Default: 64 MiB for Chromium, STRING_LIMIT otherwise. */
  maxInbound?: number;
  /** send() resolves at once while at most this many bytes wait for the pipe; above, once they have drained (default 1 MiB). */
  highWaterMark?: number;
  /** A send that would leave more bytes than this waiting is refused with 'queue-full' (default 64 MiB). */
  maxQueued?: number;
  /** Point console.log and process.stdout at stderr (default true). */
  guardStdout?: boolean;
  /** Once the browser has gone and the replies are written, the process exits within this many ms even if something else holds it (default 500; null never). */
  lingerMs?: number | null;
  /** The command line the caller is read from (default process.argv). */
  argv?: readonly string[];
  /** Streams to use instead of stdin and stdout (both or neither); stdout is then not guarded. */
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

export class Host extends EventEmitter implements AsyncIterable<any> {
  constructor(options?: HostOptions);
  readonly caller: Caller;
  /** The inbound cap in bytes. */
  readonly maxInbound: number;
  /** Bytes of replies not yet taken by the pipe. */
  readonly queued: number;
  /** Resolves once the input has ended: null at EOF or disconnect, or the HostError that broke it. */
  readonly closed: Promise<HostError | null>;
  /** The messages as JSON values; throws the HostError that broke the stream, ends at EOF. */
  [Symbol.asyncIterator](): AsyncIterator<any>;
  /** The messages as they came: each payload as a Buffer, unchecked. */
  frames(): AsyncIterableIterator<Buffer>;
  /** Sends a value as JSON: true once queued under highWaterMark, false when the browser has gone; rejects with a HostError (nothing written) when it cannot be sent. */
  send(value: unknown): Promise<boolean>;
  /** Sends a JSON text or its UTF-8 bytes as it is: size checked first, then (unless validate is false) UTF-8 and JSON. */
  sendRaw(data: string | Uint8Array, options?: { validate?: boolean }): Promise<boolean>;
  /** Messages of any size: a NativePort over this host (nmframe's chunked envelope). */
  chunked(options?: PortOptions): NativePort;
  /** Stops reading; replies already queued are still written. */
  close(): void;

  on(event: 'message', listener: (value: any) => void): this;
  on(event: 'invalid', listener: (error: HostError) => void): this;
  on(event: 'error', listener: (error: HostError) => void): this;
  on(event: 'close', listener: (error: HostError | null) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}
