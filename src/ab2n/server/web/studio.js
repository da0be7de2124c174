// The studio page: wires the protocol client (api.js) to the page. Everything the page shows
// comes from the server by id: the session's state, the analysis of its media, its jobs.

import { Api, store } from "./api.js";
import { drawTimeline } from "./timeline.js";

const api = new Api();
const $ = (id) => document.getElementById(id);
const lang = (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
const analyses = {};
let busy = false;
let polling = null;

function say(role, text, cls = "") {
  const p = document.createElement("p");
  p.className = `msg ${role} ${cls}`.trim();
  p.textContent = text;
  $("log").appendChild(p);
  $("log").scrollTop = $("log").scrollHeight;
  return p;
}

function failure(e, what) {
  const code = e && e.code != null ? e.code : 0;
  say("system", `${what}: ${e.message || e} (code ${code})`, "error");
}

async function refreshCredits() {
  try {
    const c = await api.credits();
    $("credits").textContent = `credits: ${c.available} available · ${c.frozen} reserved`;
  } catch (e) {
    $("credits").textContent = "credits: unavailable";
  }
}

function showFiles(files) {
  const ul = $("session-files");
  ul.replaceChildren();
  for (const f of files || []) {
    const li = document.createElement("li");
    li.className = f.active ? "active" : "";
    li.textContent = `${f.active ? "▶ " : ""}${f.name}`;
    if (f.summary) li.title = f.summary;
    ul.appendChild(li);
  }
}

/** Before the first edit there is no draft: draw the active upload as it is. */
function uploadedDraft(st) {
  const active = (st.files || []).find((f) => f.active);
  const media = (st.video_infos || []).find((m) => m.media_id === active?.media_id) || st.video_infos?.at(-1);
  if (!media || media.kind === "audio" || !media.duration) return null;
  const d = Math.round(media.duration * 1000);
  return { d, m: {}, t: [{ tt: 0, n: "Video", sg: [{ mid: media.media_id, s: 0, d, in: 0, n: media.name }] }] };
}

async function refreshState() {
  const st = await api.retrying(() => api.state(), lang);
  showFiles(st.files);
  const active = (st.files || []).find((f) => f.active);
  const draft = st.draft || uploadedDraft(st);
  const summary = active?.summary || (draft ? `${active?.name || "file"}: no music yet` : "Drop a file to start.");
  const mids = new Set((draft?.t || []).filter((t) => t.tt === 0).flatMap((t) => t.sg.map((s) => s.mid)));
  await Promise.all(
    [...mids].filter((m) => m && !analyses[m]).map(async (m) => {
      try {
        analyses[m] = await api.analysis(m);
      } catch (e) {
        failure(e, "analysis");
      }
    }),
  );
  drawTimeline($("timeline"), draft, analyses, summary);
  $("summary").textContent = summary;
  findJobs(st.generated_media || []);
}

/** After a reload (or an export the chat started): follow an unfinished job, show the latest done one. */
function findJobs(jobs) {
  const stored = store.get("job");
  const open = jobs.filter((j) => j.status === "queued" || j.status === "running");
  const follow = (stored && jobs.find((j) => j.id === stored && j.status !== "failed")) || open[open.length - 1];
  // Not awaited: the poll runs on while the page goes on working.
  if (follow && !polling) pollJob(follow.id);
  const done = jobs.filter((j) => j.status === "done");
  if (!follow && done.length && !polling && !$("download").firstChild) pollJob(done[done.length - 1].id);
}

function showDone(job) {
  $("export-status").hidden = true;
  const a = document.createElement("a");
  a.href = job.download_url;
  a.download = `${job.id}.mp4`;
  a.className = "button primary";
  a.textContent = `Download ${job.id}.mp4`;
  $("download").replaceChildren(a);
  const v = $("preview");
  v.src = job.download_url;
  v.hidden = false;
}

async function pollJob(id) {
  store.set("job", id);
  polling = id;
  $("export-status").hidden = false;
  $("export").disabled = true;
  try {
    for (;;) {
      const job = await api.job(id);
      $("export-progress").value = job.progress;
      $("export-text").textContent = `${job.id}: ${job.status} ${Math.round(job.progress * 100)}%`;
      if (job.status === "done") {
        showDone(job);
        break;
      }
      if (job.status === "failed") {
        $("export-status").hidden = true;
        failure(job.error || {}, `export ${job.id} failed`);
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } catch (e) {
    failure(e, "export");
  } finally {
    polling = null;
    $("export").disabled = false;
    refreshCredits();
  }
}

async function startExport() {
  try {
    const job = await api.retrying(() => api.startExport(`render_${Date.now()}`), lang);
    say("system", `Export ${job.id} started.`);
    refreshCredits();
    await pollJob(job.id);
  } catch (e) {
    failure(e, "export");
  }
}

async function send(text) {
  if (!text.trim() || busy) return;
  busy = true;
  $("send").disabled = true;
  say("user", text);
  const answer = say("assistant", "");
  const working = $("working");
  try {
    await api.retrying(
      () =>
        api.chat(text, {
          text: (t) => {
            working.hidden = true;
            answer.textContent += (answer.textContent ? "\n" : "") + t;
          },
          error: (err) => {
            answer.classList.add("error");
            answer.dataset.code = String(err.code);
          },
          heartbeat: () => (working.hidden = false),
        }),
      lang,
    );
  } catch (e) {
    answer.remove();
    failure(e, "chat");
  } finally {
    working.hidden = true;
    busy = false;
    $("send").disabled = false;
  }
  await refreshState().catch((e) => failure(e, "state"));
  refreshCredits();
}

async function uploadOne(file) {
  const li = document.createElement("li");
  const name = document.createElement("span");
  name.textContent = file.name;
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = 0;
  bar.setAttribute("aria-label", `sending ${file.name}`);
  li.append(name, bar);
  $("uploads").appendChild(li);
  try {
    const media = await api.retrying(() => api.upload(file, (f) => (bar.value = f)), lang);
    bar.value = 1;
    li.className = "ok";
    li.dataset.mediaId = media.media_id;
    name.textContent = `${file.name} — uploaded (${media.kind}, ${(media.duration ?? 0).toFixed(1)} s)`;
    say("system", `${file.name} uploaded.`);
  } catch (e) {
    li.className = "refused";
    name.textContent = `${file.name} — refused`;
    failure(e, `${file.name} was refused`);
  }
}

async function uploadAll(files) {
  // One after another: each has its own bar; a refused file does not stop the others.
  for (const f of files) await uploadOne(f);
  await refreshState().catch((e) => failure(e, "state"));
}

function wire() {
  $("file").addEventListener("change", (e) => {
    uploadAll([...e.target.files]);
    e.target.value = "";
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    uploadAll([...e.dataTransfer.files]);
  });
  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("message").value;
    $("message").value = "";
    send(text);
  });
  $("message").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("chat-form").requestSubmit();
    }
  });
  $("undo").addEventListener("click", () => send("undo"));
  $("redo").addEventListener("click", () => send("redo"));
  $("export").addEventListener("click", startExport);
  $("new-session").addEventListener("click", async () => {
    await api.newSession(lang);
    location.reload();
  });
}

async function start() {
  wire();
  try {
    await api.ensureToken();
    if (!api.sid) await api.retrying(() => api.newSession(lang), lang);
    await refreshState();
    await refreshCredits();
    document.body.dataset.ready = "1";
  } catch (e) {
    failure(e, "could not reach the server");
  }
}

start();
