// The protocol of shared/SPEC.md, as a browser speaks it: an anonymous token and a session kept in
// localStorage, JSON envelopes, uploads with progress (XMLHttpRequest: fetch has no upload
// progress), and the chat's server-sent events read from a fetch ReadableStream (EventSource
// cannot POST).

const KEY = { client: "ab2n.client", token: "ab2n.token", session: "ab2n.session", job: "ab2n.job" };
const ATTRIBUTION = { "X-Skill-Source": "ab2n-studio", "X-Skill-Version": "1", "X-Skill-Platform": "unknown" };

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID(); // only in secure contexts (localhost, https)
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const store = {
  get: (k) => localStorage.getItem(KEY[k]),
  set: (k, v) => (v == null ? localStorage.removeItem(KEY[k]) : localStorage.setItem(KEY[k], v)),
};

function unwrap(status, text) {
  let env;
  try {
    env = JSON.parse(text);
  } catch {
    throw new ApiError(status || 500, `the server answered ${status || "nothing"}`);
  }
  if (env.code !== 0) throw new ApiError(env.code, env.message);
  return env.data;
}

export class Api {
  headers(extra = {}) {
    const token = store.get("token");
    return { ...ATTRIBUTION, ...(token ? { Authorization: `Bearer ${token}` } : {}), ...extra };
  }

  async call(method, path, body) {
    const init = { method, headers: this.headers(body ? { "Content-Type": "application/json" } : {}) };
    if (body) init.body = JSON.stringify(body);
    const r = await fetch(path, init);
    return unwrap(r.status, await r.text());
  }

  /** A token (a new one if there is none, or the stored one is refused). */
  async ensureToken(force = false) {
    if (store.get("token") && !force) return;
    if (!store.get("client") || force) store.set("client", uuid());
    const r = await fetch("/api/auth/anonymous-token", {
      method: "POST",
      headers: { ...ATTRIBUTION, "X-Client-Id": store.get("client") },
    });
    store.set("token", unwrap(r.status, await r.text()).token);
  }

  /** Calls ``fn`` and, once, gets a new token or session if the server refuses the old one. */
  async retrying(fn, lang) {
    try {
      return await fn();
    } catch (e) {
      if (e.code === 1001) {
        await this.ensureToken(true);
        await this.newSession(lang);
      } else if (e.code === 1002) {
        await this.newSession(lang);
      } else throw e;
      return fn();
    }
  }

  async newSession(lang) {
    const d = await this.call("POST", "/api/tasks/me/with-session/nemo_agent", { task_name: "project", language: lang });
    store.set("session", d.session_id);
    store.set("job", null);
    return d.session_id;
  }

  get sid() {
    return store.get("session");
  }

  credits() {
    return this.call("GET", "/api/credits/balance/simple");
  }

  state() {
    return this.call("GET", `/api/state/nemo_agent/me/${this.sid}/latest`);
  }

  analysis(mid) {
    return this.call("GET", `/api/media/nemo_agent/me/${this.sid}/${encodeURIComponent(mid)}/analysis`);
  }

  startExport(id) {
    return this.call("POST", "/api/render/proxy/lambda", { id, sessionId: this.sid, output: { format: "mp4", quality: "high" } });
  }

  job(id) {
    return this.call("GET", `/api/render/proxy/lambda/${encodeURIComponent(id)}`);
  }

  /** Upload one file; ``onProgress(fraction)`` while the bytes go out. Resolves to the media. */
  upload(file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `/api/upload-video/nemo_agent/me/${this.sid}`);
      for (const [k, v] of Object.entries(this.headers())) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      xhr.onload = () => {
        try {
          resolve(unwrap(xhr.status, xhr.responseText));
        } catch (e) {
          reject(e);
        }
      };
      xhr.onerror = () => reject(new ApiError(0, "the upload was interrupted"));
      const form = new FormData();
      form.append("file", file, file.name);
      xhr.send(form);
    });
  }

  /**
   * Send one chat message; calls ``on.text(str)``, ``on.error({code, message})`` and
   * ``on.heartbeat()`` as the events arrive. Resolves when the stream ends.
   */
  async chat(text, on) {
    const r = await fetch("/run_sse", {
      method: "POST",
      headers: this.headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
      body: JSON.stringify({ app_name: "nemo_agent", session_id: this.sid, new_message: { role: "user", parts: [{ text }] } }),
    });
    if (!r.ok || !r.body) return unwrap(r.status, await r.text());
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let kind = "message";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, "");
        buf = buf.slice(nl + 1);
        if (line.startsWith(":")) on.heartbeat();
        else if (line.startsWith("event:")) kind = line.slice(6).trim();
        else if (line.startsWith("data:")) {
          dispatch(kind, JSON.parse(line.slice(5)), on);
          kind = "message";
        }
      }
    }
  }
}

function dispatch(kind, payload, on) {
  if (kind === "error") return on.error(payload.error || {});
  if (kind === "end") return undefined;
  for (const part of payload.content?.parts || []) {
    if (typeof part.text === "string") on.text(part.text); // tool calls and results are not shown
  }
  return undefined;
}
