// The timeline as a picture (SVG): the video's segments, cuts and speech; the music's bar
// segments, seams, beats, downbeats and ending; the music's level under speech (the duck curve,
// as the mix shapes it: raised-cosine ramps, 0.15 s before speech, 0.5 s after); the titles.
// Every mark carries data-kind so tests and styles can find it.

const NS = "http://www.w3.org/2000/svg";
const W = 760;
const GUTTER = 70;
const LANES = { axis: 12, video: 18, speech: 56, music: 72, duck: 112, title: 150 };
const H = 178;
const ATTACK_S = 0.15;
const RELEASE_S = 0.5;
const DEPTH_DB = { default: 12, wcag: 20, off: 0 };

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function tracks(draft, tt) {
  return (draft?.t || []).filter((t) => t.tt === tt).flatMap((t) => t.sg || []);
}

/** 0 = full level, 1 = fully ducked, at time ``t`` (seconds on the timeline). */
function duckAmount(t, regions) {
  let a = 0;
  for (const [s, e] of regions) {
    if (t >= s && t <= e) return 1;
    if (t >= s - ATTACK_S && t < s) a = Math.max(a, 0.5 - 0.5 * Math.cos((Math.PI * (t - (s - ATTACK_S))) / ATTACK_S));
    if (t > e && t <= e + RELEASE_S) a = Math.max(a, 0.5 + 0.5 * Math.cos((Math.PI * (t - e)) / RELEASE_S));
  }
  return a;
}

/** Map the analysis of each video segment's media onto the timeline (segment start + offset). */
function videoMarks(video, analyses) {
  const cuts = [];
  const speech = [];
  for (const sg of video) {
    const a = analyses[sg.mid];
    if (!a) continue;
    const t0 = sg.s / 1000;
    const inS = (sg.in || 0) / 1000;
    const end = inS + sg.d / 1000;
    const map = (t) => t0 + (t - inS);
    for (const c of a.cuts) if (c.t > inS && c.t < end) cuts.push({ t: map(c.t), strength: c.strength });
    for (const [s, e] of a.speech) if (e > inS && s < end) speech.push([map(Math.max(s, inS)), map(Math.min(e, end))]);
  }
  return { cuts, speech };
}

function axis(svg, x, dur) {
  const step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600].find((s) => dur / s <= 10) || 1200;
  for (let t = 0; t <= dur + 1e-6; t += step) {
    el("line", { x1: x(t), x2: x(t), y1: LANES.axis, y2: H, class: "gridline" }, svg);
    const label = el("text", { x: x(t) + 2, y: LANES.axis - 2, class: "tick" }, svg);
    label.textContent = `${Math.round(t)}s`;
  }
  for (const [name, y] of [["video", 38], ["speech", 63], ["music", 92], ["level", 130], ["titles", 164]]) {
    el("text", { x: 4, y, class: "lane" }, svg).textContent = name;
  }
}

function drawVideo(svg, x, video, marks) {
  video.forEach((sg, i) => {
    const r = el("rect", { x: x(sg.s / 1000), y: LANES.video, width: Math.max(1, x(sg.d / 1000) - x(0)), height: 34, class: `video v${i % 2}`, "data-kind": "video" }, svg);
    el("title", {}, r).textContent = sg.n || "video";
  });
  for (const c of marks.cuts) {
    el("line", { x1: x(c.t), x2: x(c.t), y1: LANES.video - 2, y2: LANES.video + 36, class: "cut", "data-kind": "cut" }, svg);
  }
  for (const [s, e] of marks.speech) {
    el("rect", { x: x(s), y: LANES.speech, width: Math.max(1, x(e) - x(s)), height: 8, rx: 2, class: "speech", "data-kind": "speech" }, svg);
  }
}

function drawMusic(svg, x, sg) {
  const t0 = sg.s / 1000;
  const plan = sg.plan;
  const y = LANES.music;
  if (!plan || !plan.segments?.length) {
    el("rect", { x: x(t0), y, width: x(sg.d / 1000) - x(0), height: 34, class: "music pending", "data-kind": "music-seg" }, svg);
    return;
  }
  const segs = plan.segments;
  segs.forEach((seg, i) => {
    const s = t0 + seg.dst_start_s;
    const e = t0 + (i + 1 < segs.length ? segs[i + 1].dst_start_s : plan.duration_s);
    el("rect", { x: x(s), y, width: Math.max(1, x(e) - x(s)), height: 34, class: `music m${i % 2}`, "data-kind": "music-seg" }, svg);
    if (i > 0) {
      const xf = Math.max(2, x(seg.crossfade_s || 0) - x(0));
      el("rect", { x: x(s) - xf / 2, y: y - 3, width: xf, height: 40, class: "seam", "data-kind": "seam" }, svg);
    }
  });
  for (const b of plan.beats_s || []) el("line", { x1: x(t0 + b), x2: x(t0 + b), y1: y + 26, y2: y + 34, class: "beat", "data-kind": "beat" }, svg);
  for (const b of plan.downbeats_s || []) el("line", { x1: x(t0 + b), x2: x(t0 + b), y1: y + 16, y2: y + 34, class: "downbeat", "data-kind": "downbeat" }, svg);
  const fade = plan.fade_out_s || (sg.fo || 0) / 1000;
  const end = t0 + plan.duration_s;
  el("path", { d: `M${x(end - fade)},${y} L${x(end)},${y + 34} L${x(end)},${y} Z`, class: "ending", "data-kind": "ending" }, svg);
  const label = el("text", { x: x(t0) + 4, y: y + 12, class: "label" }, svg);
  label.textContent = `${plan.track_title || sg.tn || "music"} · ${Math.round(plan.tempo_bpm || 0)} BPM · ${Math.round((sg.vol ?? 1) * 100)}%`;
}

function drawDuck(svg, x, sg, regions, depthDb) {
  const t0 = sg.s / 1000;
  const dur = sg.d / 1000;
  const fi = (sg.fi || 0) / 1000;
  const fo = (sg.fo || 0) / 1000;
  const vol = sg.vol ?? 1;
  const pts = [];
  const n = 240;
  for (let k = 0; k <= n; k++) {
    const t = t0 + (dur * k) / n;
    const rel = t - t0;
    let g = vol * 10 ** ((-depthDb * duckAmount(t, regions)) / 20);
    if (fi > 0 && rel < fi) g *= rel / fi;
    if (fo > 0 && rel > dur - fo) g *= Math.max(0, (dur - rel) / fo);
    pts.push(`${x(t).toFixed(1)},${(LANES.duck + 30 * (1 - g)).toFixed(1)}`);
  }
  el("line", { x1: x(t0), x2: x(t0 + dur), y1: LANES.duck + 30, y2: LANES.duck + 30, class: "base" }, svg);
  el("polyline", { points: pts.join(" "), class: "duck", "data-kind": "duck" }, svg);
}

function drawTitles(svg, x, titles) {
  for (const t of titles) {
    const g = el("g", { "data-kind": "title" }, svg);
    el("rect", { x: x(t.s / 1000), y: LANES.title, width: Math.max(2, x(t.d / 1000) - x(0)), height: 22, rx: 3, class: "title" }, g);
    el("text", { x: x(t.s / 1000) + 4, y: LANES.title + 15, class: "title-text" }, g).textContent = t.text;
  }
}

/**
 * Draw ``draft`` into ``host`` (replacing what was there).
 * @param {HTMLElement} host
 * @param {object|null} draft the public draft (ids, no paths)
 * @param {Record<string, object>} analyses media id -> the analysis endpoint's data
 * @param {string} summary the one-line summary (the picture's accessible name)
 */
export function drawTimeline(host, draft, analyses, summary) {
  host.replaceChildren();
  const dur = Math.max(0.1, (draft?.d || 0) / 1000);
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `Timeline: ${summary || "empty"}`, class: "tl" });
  const x = (t) => GUTTER + ((W - GUTTER - 6) * t) / dur;
  if (draft) {
    axis(svg, x, dur);
    const video = tracks(draft, 0);
    const marks = videoMarks(video, analyses);
    drawVideo(svg, x, video, marks);
    const depth = DEPTH_DB[draft.m?.duck] ?? 12;
    for (const sg of tracks(draft, 1)) {
      drawMusic(svg, x, sg);
      drawDuck(svg, x, sg, mergeGaps(marks.speech), depth);
    }
    drawTitles(svg, x, tracks(draft, 7));
  }
  host.appendChild(svg);
}

/** Speech merged across pauses under 0.8 s (the music stays down through them). */
function mergeGaps(speech) {
  const out = [];
  for (const [s, e] of [...speech].sort((a, b) => a[0] - b[0])) {
    if (out.length && s - out[out.length - 1][1] < 0.8) out[out.length - 1][1] = Math.max(out[out.length - 1][1], e);
    else out.push([s, e]);
  }
  return out;
}
