// AuraLink call page: join a room over the engine's room API, publish microphone and camera,
// show the others, and show captions and events that arrive on the data channel.
const VIDEO_SLOTS = 4;
const WATCH_MS = 250, STALL_MS = 1500, RECONNECT_ATTEMPTS = 30;
const state = { pc: null, media: null, location: null, token: null, room: null, slots: new Map(), partial: new Map(),
  messages: [], remoteAudioPeak: 0, joined: false, reconnecting: false, reconnects: 0, watchdog: null };
window.auralink = state; // inspected by the end-to-end tests

const $ = (id) => document.getElementById(id);
const setStatus = (text) => { $("status").textContent = text; };

function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get("room")) $("room").value = params.get("room");
  if (params.get("token")) $("token").value = params.get("token");
  return params.get("autojoin") === "1";
}

async function localMedia() {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
  } catch (error) {
    setStatus(`Camera unavailable (${error.name}); joining with audio only.`);
    return navigator.mediaDevices.getUserMedia({ audio: true });
  }
}

async function iceServers(room, token) {
  const response = await fetch(`/rooms/${encodeURIComponent(room)}/ice`, { headers: { Authorization: `Bearer ${token}` } });
  return response.ok ? (await response.json()).iceServers : [];
}

async function join(event) {
  event?.preventDefault();
  const room = $("room").value.trim(), token = $("token").value.trim();
  setStatus("Joining…");
  const media = await localMedia();
  state.media = media;
  $("self-video").srcObject = media;
  Object.assign(state, { room, token });
  const refused = await connect(null);
  if (refused) {
    setStatus(`Could not join: ${refused}`);
    stopLocalMedia();
    return;
  }
  state.joined = true;
  $("join").disabled = true;
  $("leave").disabled = false;
  watch();
}

// Offer the local media to the room; returns null once answered, or why the engine refused.
// `reconnectOf` names the session a reconnect continues (the engine reports the join as a reconnect).
async function connect(reconnectOf) {
  const { room, token, media } = state;
  const pc = new RTCPeerConnection({ iceServers: await iceServers(room, token) });
  state.pc = pc;
  const audio = media.getAudioTracks()[0];
  pc.addTransceiver(audio || "audio", { direction: audio ? "sendrecv" : "recvonly", streams: [media] });
  const camera = media.getVideoTracks()[0];
  if (camera) pc.addTransceiver(camera, { direction: "sendrecv", streams: [media] });
  for (let i = camera ? 1 : 0; i < VIDEO_SLOTS; i++) pc.addTransceiver("video", { direction: "recvonly" });
  const channel = pc.createDataChannel("auralink");
  channel.onmessage = (message) => onMessage(JSON.parse(message.data));
  pc.ontrack = onTrack;
  pc.onconnectionstatechange = () => { if (state.pc === pc) setStatus(`Room ${room}: ${pc.connectionState}`); };
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const headers = { "Content-Type": "application/sdp", Authorization: `Bearer ${token}` };
  if (reconnectOf) headers["X-AuraLink-Reconnect"] = reconnectOf;
  const response = await fetch(`/rooms/${encodeURIComponent(room)}/join`, {
    method: "POST", body: pc.localDescription.sdp, headers,
  });
  if (response.status !== 201) {
    const body = await response.json().catch(() => ({ detail: response.statusText }));
    pc.close();
    return body.detail || `HTTP ${response.status}`;
  }
  state.location = response.headers.get("Location");
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  return null;
}

// The room's audio arrives 50 times a second, silence included: when it stops (the engine died) or the
// connection fails, offer again. Through a cluster's front, the room comes back on another engine.
function watch() {
  let packets = -1, changed = Date.now();
  state.watchdog = setInterval(async () => {
    const pc = state.pc;
    if (!state.joined || state.reconnecting || !pc) return;
    let now = 0;
    (await pc.getStats()).forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "audio") now += s.packetsReceived; });
    if (now !== packets) { packets = now; changed = Date.now(); }
    const stalled = pc.connectionState === "connected" && Date.now() - changed > STALL_MS;
    if (stalled || ["failed", "disconnected"].includes(pc.connectionState)) {
      await reconnect();
      packets = -1;
      changed = Date.now();
    }
  }, WATCH_MS);
}

async function reconnect() {
  state.reconnecting = true;
  const previous = (state.location || "").split("/").pop();
  setStatus(`Room ${state.room}: reconnecting…`);
  state.pc?.close();
  let delay = 200, refused = null;
  for (let attempt = 0; attempt < RECONNECT_ATTEMPTS && state.joined; attempt++) {
    refused = await connect(previous).catch((error) => `${error}`);
    if (!refused) { state.reconnects += 1; break; }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(2000, delay * 2);
  }
  if (refused) setStatus(`Lost the call: ${refused}`);
  state.reconnecting = false;
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 2000); // send what we have: the engine answers with all of its candidates
  });
}

function onTrack(event) {
  if (event.track.kind === "audio") {
    const player = new Audio();
    player.srcObject = new MediaStream([event.track]);
    player.play().catch(() => setStatus("Click anywhere to hear the room."));
    meterRemoteAudio(event.track);
    return;
  }
  const mid = event.transceiver.mid;
  const tile = tileFor(mid);
  tile.querySelector("video").srcObject = new MediaStream([event.track]);
}

function meterRemoteAudio(track) {
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    const rms = Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);
    state.remoteAudioPeak = Math.max(state.remoteAudioPeak, rms);
  }, 100);
}

function tileFor(mid) {
  let tile = state.slots.get(mid);
  if (!tile) {
    tile = document.createElement("figure");
    tile.className = "tile";
    tile.hidden = true;
    tile.innerHTML = '<video autoplay playsinline muted></video><figcaption></figcaption><div class="level"></div>';
    $("stage").append(tile);
    state.slots.set(mid, tile);
  }
  return tile;
}

function onMessage(message) {
  state.messages.push(message);
  if (message.type === "participants") showParticipants(message.participants);
  else if (message.type === "video-slots") showSlots(message.slots);
  else if (message.type === "quality") showQuality(message);
  else if (message.type === "event" && message.event === "audio-level") showLevel(message);
  else if (["transcript", "translation", "text"].includes(message.type)) showCaption(message);
}

function showParticipants(participants) {
  $("participants").replaceChildren(...participants.map((p) => {
    const item = document.createElement("li");
    item.textContent = `${p.identity} (${p.kind})`;
    return item;
  }));
}

function showSlots(slots) {
  for (const { mid, identity } of slots) {
    const tile = tileFor(mid);
    tile.hidden = !identity;
    tile.dataset.identity = identity || "";
    tile.querySelector("figcaption").textContent = identity || "";
  }
}

function showLevel(message) {
  const tile = [...state.slots.values()].find((t) => t.dataset.identity === message.speaker);
  if (!tile) return;
  const rms = message.data.rms_dbfs;
  tile.querySelector(".level").style.width = `${Math.max(0, Math.min(100, (rms + 60) * 100 / 60))}%`;
}

function showCaption(message) {
  const key = `${message.speaker}|${message.type}|${message.language}`;
  let item = state.partial.get(key);
  if (!item) {
    item = document.createElement("li");
    $("captions").append(item);
  }
  item.className = message.final ? "final" : "partial";
  item.innerHTML = "";
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = message.speaker || "room";
  const lang = document.createElement("span");
  lang.className = "lang";
  lang.textContent = message.language ? `${message.type} · ${message.language}` : message.type;
  item.append(who, document.createTextNode(message.text), lang);
  if (message.final) state.partial.delete(key); else state.partial.set(key, item);
  $("captions").scrollTop = $("captions").scrollHeight;
}

function showQuality(message) {
  const rtt = message.rtt_ms == null ? "n/a" : `${message.rtt_ms.toFixed(0)} ms`;
  $("quality").textContent = `MOS ${message.mos.toFixed(2)} · jitter ${message.jitter_ms.toFixed(1)} ms · RTT ${rtt} · loss ${(100 * message.loss).toFixed(1)} %`;
}

function stopLocalMedia() {
  state.media?.getTracks().forEach((track) => track.stop()); // the camera light goes off
  state.media = null;
  $("self-video").srcObject = null;
}

async function leave() {
  clearInterval(state.watchdog);
  state.joined = false;
  if (state.location) {
    await fetch(state.location, { method: "DELETE", keepalive: true, headers: { Authorization: `Bearer ${state.token}` } });
  }
  state.pc?.close();
  stopLocalMedia();
  Object.assign(state, { pc: null, location: null, joined: false });
  $("join").disabled = false;
  $("leave").disabled = true;
  setStatus("Left the call.");
}

$("join-form").addEventListener("submit", (event) => join(event).catch((error) => setStatus(`Could not join: ${error}`)));
$("leave").addEventListener("click", leave);
window.addEventListener("pagehide", () => { if (state.location) leave(); }); // keepalive lets the DELETE out
if (readFragment()) join().catch((error) => setStatus(`Could not join: ${error}`));
