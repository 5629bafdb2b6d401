// What the sandbox adds to QuickJS for hook authors, and how `ctx` is built.
//
// This module is compiled to bytecode once per engine and loaded into every fresh runtime;
// `install(native)` receives the Rust host functions, defines the globals hook authors
// expect, and returns `makeCtx`. The host functions are captured here and never placed on
// the global object.

export function install(native) {
  const define = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });

  // ---- logging -------------------------------------------------------------------------
  function dataJson(data) {
    if (data === undefined) return undefined;
    try {
      return JSON.stringify(data);
    } catch (error) {
      return JSON.stringify({ unserializable: String(error) });
    }
  }
  function formatArgument(value) {
    if (typeof value === 'string') return value;
    if (value instanceof Error) return value.stack ? `${value.name}: ${value.message}\n${value.stack}` : `${value.name}: ${value.message}`;
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') return String(value);
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return String(value);
    }
  }
  const writeLog = (level) => (message, data) => native.log(level, String(message), dataJson(data));
  const log = Object.freeze({ info: writeLog('info'), warn: writeLog('warn'), error: writeLog('error') });
  const consoleWrite = (level) => (...args) => native.log(level, args.map(formatArgument).join(' '), undefined);
  define('console', Object.freeze({
    log: consoleWrite('info'),
    info: consoleWrite('info'),
    debug: consoleWrite('info'),
    warn: consoleWrite('warn'),
    error: consoleWrite('error'),
  }));

  // ---- timers ----------------------------------------------------------------------------
  let nextTimer = 1;
  const timers = new Set();
  define('setTimeout', function setTimeout(callback, delay = 0, ...args) {
    if (typeof callback !== 'function') throw new TypeError('setTimeout: callback must be a function');
    const id = nextTimer++;
    timers.add(id);
    native.sleep(Math.max(0, Number(delay) || 0)).then(() => {
      if (!timers.delete(id)) return;
      try {
        callback(...args);
      } catch (error) {
        native.log('error', `Uncaught error in a setTimeout callback: ${formatArgument(error)}`, undefined);
      }
    });
    return id;
  });
  define('clearTimeout', function clearTimeout(id) {
    timers.delete(id);
  });

  // ---- text encoding ---------------------------------------------------------------------
  const UTF8_LABELS = ['utf-8', 'utf8', 'unicode-1-1-utf-8'];
  function asBytes(input) {
    if (input === undefined) return new Uint8Array(0);
    if (input instanceof Uint8Array) return input;
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw new TypeError('TextDecoder.decode: input must be an ArrayBuffer or a view of one');
  }
  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(input = '') { return native.utf8Encode(String(input)); }
    encodeInto(input, destination) {
      const text = String(input);
      let read = 0;
      let written = 0;
      for (const character of text) {
        const bytes = native.utf8Encode(character);
        if (written + bytes.length > destination.length) break;
        destination.set(bytes, written);
        written += bytes.length;
        read += character.length;
      }
      return { read, written };
    }
  }
  class TextDecoder {
    #fatal;
    #ignoreBOM;
    constructor(label = 'utf-8', options = {}) {
      if (!UTF8_LABELS.includes(String(label).trim().toLowerCase())) {
        throw new RangeError(`TextDecoder: only utf-8 is supported, not ${label}`);
      }
      this.#fatal = Boolean(options?.fatal);
      this.#ignoreBOM = Boolean(options?.ignoreBOM);
    }
    get encoding() { return 'utf-8'; }
    get fatal() { return this.#fatal; }
    get ignoreBOM() { return this.#ignoreBOM; }
    decode(input) { return native.utf8Decode(asBytes(input), this.#fatal, this.#ignoreBOM); }
  }
  define('TextEncoder', TextEncoder);
  define('TextDecoder', TextDecoder);

  // ---- URL and URLSearchParams (WHATWG parsing by the Rust `url` crate) ----------------------
  const LINK = Symbol('link');
  class URLSearchParams {
    #list = [];
    constructor(init = '') {
      if (init instanceof URLSearchParams) {
        this.#list = init.#list.map(([k, v]) => [k, v]);
      } else if (init !== null && typeof init === 'object') {
        if (typeof init[Symbol.iterator] === 'function') {
          for (const pair of init) {
            const entry = [...pair];
            if (entry.length !== 2) throw new TypeError('URLSearchParams: each pair must have exactly two items');
            this.#list.push([String(entry[0]), String(entry[1])]);
          }
        } else {
          for (const key of Object.keys(init)) this.#list.push([key, String(init[key])]);
        }
      } else {
        this.#parse(String(init));
      }
    }
    #parse(text) {
      const flat = native.formParse(text.startsWith('?') ? text.slice(1) : text);
      this.#list = [];
      for (let i = 0; i < flat.length; i += 2) this.#list.push([flat[i], flat[i + 1]]);
    }
    #update() {
      this[LINK]?.(this.toString());
    }
    get size() { return this.#list.length; }
    append(name, value) { this.#list.push([String(name), String(value)]); this.#update(); }
    delete(name, value) {
      name = String(name);
      this.#list = this.#list.filter(([k, v]) => !(k === name && (value === undefined || v === String(value))));
      this.#update();
    }
    get(name) { name = String(name); const found = this.#list.find(([k]) => k === name); return found ? found[1] : null; }
    getAll(name) { name = String(name); return this.#list.filter(([k]) => k === name).map(([, v]) => v); }
    has(name, value) { name = String(name); return this.#list.some(([k, v]) => k === name && (value === undefined || v === String(value))); }
    set(name, value) {
      name = String(name);
      value = String(value);
      const index = this.#list.findIndex(([k]) => k === name);
      if (index < 0) this.#list.push([name, value]);
      else {
        this.#list[index][1] = value;
        this.#list = this.#list.filter(([k], i) => i <= index || k !== name);
      }
      this.#update();
    }
    sort() {
      this.#list = this.#list.map((entry, i) => [entry, i]).sort(([a, i], [b, j]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : i - j)).map(([entry]) => entry);
      this.#update();
    }
    forEach(callback, thisArg) { for (const [k, v] of this.#list) callback.call(thisArg, v, k, this); }
    *entries() { for (const [k, v] of this.#list) yield [k, v]; }
    *keys() { for (const [k] of this.#list) yield k; }
    *values() { for (const [, v] of this.#list) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return native.formSerialize(this.#list.flat()); }
    static _replace(params, search) { params.#parse(search); }
  }
  const replaceParams = URLSearchParams._replace;
  delete URLSearchParams._replace;

  // Component order returned by native.urlParse / native.urlSet.
  const HREF = 0, PROTOCOL = 1, USERNAME = 2, PASSWORD = 3, HOST = 4, HOSTNAME = 5, PORT = 6, PATHNAME = 7, SEARCH = 8, HASH = 9, ORIGIN = 10;
  class URL {
    #parts;
    #params;
    constructor(url, base) {
      this.#parts = native.urlParse(String(url), base === undefined ? undefined : String(base));
    }
    #set(part, value) {
      this.#parts = native.urlSet(this.#parts[HREF], part, String(value));
      if (this.#params && (part === 'href' || part === 'search')) replaceParams(this.#params, this.#parts[SEARCH]);
    }
    get href() { return this.#parts[HREF]; }
    set href(value) { this.#set('href', value); }
    get protocol() { return this.#parts[PROTOCOL]; }
    set protocol(value) { this.#set('protocol', value); }
    get username() { return this.#parts[USERNAME]; }
    set username(value) { this.#set('username', value); }
    get password() { return this.#parts[PASSWORD]; }
    set password(value) { this.#set('password', value); }
    get host() { return this.#parts[HOST]; }
    set host(value) { this.#set('host', value); }
    get hostname() { return this.#parts[HOSTNAME]; }
    set hostname(value) { this.#set('hostname', value); }
    get port() { return this.#parts[PORT]; }
    set port(value) { this.#set('port', value); }
    get pathname() { return this.#parts[PATHNAME]; }
    set pathname(value) { this.#set('pathname', value); }
    get search() { return this.#parts[SEARCH]; }
    set search(value) { this.#set('search', value); }
    get hash() { return this.#parts[HASH]; }
    set hash(value) { this.#set('hash', value); }
    get origin() { return this.#parts[ORIGIN]; }
    get searchParams() {
      if (!this.#params) {
        this.#params = new URLSearchParams(this.#parts[SEARCH]);
        this.#params[LINK] = (query) => {
          this.#parts = native.urlSet(this.#parts[HREF], 'search', query);
        };
      }
      return this.#params;
    }
    toString() { return this.href; }
    toJSON() { return this.href; }
    static canParse(url, base) {
      try {
        new URL(url, base);
        return true;
      } catch {
        return false;
      }
    }
  }
  define('URL', URL);
  define('URLSearchParams', URLSearchParams);

  // ---- ctx -----------------------------------------------------------------------------
  const JSON_TYPE = /^\s*(application\/json|[^;\s]+\+json)\s*(;|$)/i;

  function flatPairs(object, what) {
    if (object === undefined || object === null) return [];
    if (typeof object !== 'object') throw new TypeError(`ctx.http: options.${what} must be an object`);
    const flat = [];
    for (const key of Object.keys(object)) {
      const value = object[key];
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) for (const item of value) flat.push(key, String(item));
      else flat.push(key, String(value));
    }
    return flat;
  }

  async function request(method, url, body, options) {
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      throw new TypeError(`ctx.http.${method.toLowerCase()}: options must be an object`);
    }
    const headers = flatPairs(options?.headers, 'headers');
    const query = flatPairs(options?.query, 'query');
    let payload;
    if (body !== undefined && body !== null) {
      if (typeof body === 'string') {
        payload = body;
      } else {
        payload = JSON.stringify(body);
        const hasContentType = headers.some((value, i) => i % 2 === 0 && value.toLowerCase() === 'content-type');
        if (!hasContentType) headers.push('Content-Type', 'application/json');
      }
    }
    const timeout = options?.timeout;
    if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0))) {
      throw new TypeError('ctx.http: options.timeout must be a positive number of milliseconds');
    }
    const response = await native.http(method, String(url), headers, query, payload, timeout);
    let parsed = response.text;
    if (JSON_TYPE.test(response.headers['content-type'] ?? '')) {
      try {
        parsed = JSON.parse(response.text);
      } catch {
        // Not JSON after all: the text is the most useful thing to hand back.
      }
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  const http = Object.freeze({
    get: (url, options) => request('GET', url, undefined, options),
    post: (url, body, options) => request('POST', url, body, options),
    put: (url, body, options) => request('PUT', url, body, options),
    patch: (url, body, options) => request('PATCH', url, body, options),
    delete: (url, options) => request('DELETE', url, undefined, options),
  });

  const kv = Object.freeze({
    async get(key) {
      if (typeof key !== 'string') throw new TypeError('ctx.kv.get: key must be a string');
      return (await native.kvGet(key)) ?? null;
    },
    async set(key, value, ttlSeconds) {
      if (typeof key !== 'string') throw new TypeError('ctx.kv.set: key must be a string');
      if (typeof value !== 'string') throw new TypeError(`ctx.kv.set: value must be a string, got ${value === null ? 'null' : typeof value}`);
      if (ttlSeconds !== undefined && (typeof ttlSeconds !== 'number' || !(ttlSeconds > 0) || !Number.isFinite(ttlSeconds))) {
        throw new TypeError('ctx.kv.set: ttlSeconds must be a positive number');
      }
      return native.kvSet(key, value, ttlSeconds);
    },
  });

  return function makeCtx(kind, secrets, org, meta, event) {
    return {
      http,
      secrets,
      org: Object.freeze(org),
      kv,
      log,
      meta: kind === 'pull' ? meta : undefined,
      event: kind === 'push' ? event : undefined,
    };
  };
}
