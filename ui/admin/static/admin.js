// AuraLink admin UI: copy buttons, confirmations, charts. Loaded from 'self' only (the CSP allows nothing inline).
"use strict";

function copyButtons(root) {
  for (const button of root.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      } catch {
        const range = document.createRange();
        range.selectNodeContents(source);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
    });
  }
}

function confirmations(root) {
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

function themeColours() {
  const style = getComputedStyle(document.documentElement);
  return { text: style.getPropertyValue("--text").trim(), line: style.getPropertyValue("--line").trim(),
           accent: style.getPropertyValue("--accent").trim() };
}

function axes(colours) {
  const axis = { stroke: colours.text, grid: { stroke: colours.line, width: 1 }, ticks: { stroke: colours.line } };
  return [{ ...axis }, { ...axis }];
}

function counted(pair) {
  pair[1].incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000, 1000000];
  return pair;
}

const CHARTS = {
  calls(data, width, colours) {
    return [{
      width, height: 220, legend: { show: false },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: counted(axes(colours)),
      series: [{}, { label: "Calls", stroke: colours.accent, fill: colours.accent + "33", width: 2, points: { show: true } }],
    }, [data.x, data.y]];
  },
  mos(data, width, colours) {
    const bars = uPlot.paths.bars({ size: [0.6, 80] });
    const ax = counted(axes(colours));
    ax[0].values = (u, ticks) => ticks.map((i) => data.labels[i] ?? "");
    return [{
      width, height: 220, legend: { show: false },
      scales: { x: { time: false, range: [-0.5, data.labels.length - 0.5] }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: ax,
      series: [{}, { label: "Samples", stroke: colours.accent, fill: colours.accent + "99", paths: bars, points: { show: false } }],
    }, [data.labels.map((_, i) => i), data.y]];
  },
};

const PALETTE = ["#d4a000", "#1a7f37", "#cf222e", "#8250df"];

function timeline(title, data, width, colours, left, right) {
  const ax = axes(colours);
  ax[1].label = left.label;
  ax[1].scale = left.scale;
  ax.push({ ...ax[1], side: 1, scale: right.scale, label: right.label, grid: { show: false } });
  return [{
    title, width, height: 220,
    scales: { x: { time: true }, [left.scale]: left.range ? { range: left.range } : {}, [right.scale]: {} },
    axes: ax,
    series: [{}, ...left.series.map((s, i) => ({ label: s.label, scale: left.scale, stroke: i ? PALETTE[i] : colours.accent, width: 2 })),
             ...right.series.map((s, i) => ({ label: s.label, scale: right.scale, stroke: PALETTE[2 + i], width: 2, dash: [6, 4] }))],
  }, [data.at, ...left.series.map((s) => data[s.key]), ...right.series.map((s) => data[s.key])]];
}

CHARTS.quality = (data, width, colours) => timeline("MOS and loss", data, width, colours,
  { scale: "mos", label: "MOS", range: [1, 4.5], series: [{ key: "mos", label: "MOS" }] },
  { scale: "%", label: "loss %", series: [{ key: "loss", label: "loss %" }] });
CHARTS.network = (data, width, colours) => timeline("Jitter, RTT and bitrate", data, width, colours,
  { scale: "ms", label: "ms", series: [{ key: "jitter", label: "jitter ms" }, { key: "rtt", label: "RTT ms" }] },
  { scale: "kbps", label: "kbit/s", series: [{ key: "bitrate", label: "bitrate kbit/s" }] });

let drawn = [];

function charts(root) {
  const source = document.getElementById("chart-data");
  if (!source || typeof uPlot === "undefined") return;
  const all = JSON.parse(source.textContent);
  const colours = themeColours();
  for (const plot of drawn) plot.destroy();
  drawn = [];
  for (const element of root.querySelectorAll("[data-chart]")) {
    const build = CHARTS[element.dataset.chart];
    const data = all[element.dataset.series || element.dataset.chart];
    if (!build || !data) continue;
    const [options, series] = build(data, element.clientWidth || 480, colours);
    drawn.push(new uPlot(options, series, element));
  }
}

// the charts' colours come from the theme: draw them again when the system switches between light and dark
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => charts(document));

function liveUpdates(root) {
  const target = root.querySelector("[data-live-source]");
  if (!target) return;
  const source = new EventSource(target.dataset.liveSource);
  source.addEventListener("rooms", (event) => { target.innerHTML = event.data; });
  window.addEventListener("pagehide", () => source.close());
}

function failedRequests() {
  // htmx leaves a 4xx/5xx answer unswapped; the server's banner for it goes to the page's banner slot
  document.body.addEventListener("htmx:responseError", (event) => {
    const banner = document.getElementById("banner");
    if (banner) banner.innerHTML = event.detail.xhr.responseText;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  failedRequests();
  liveUpdates(document);
  copyButtons(document);
  confirmations(document);
  charts(document);
});
