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

function charts(root) {
  const source = document.getElementById("chart-data");
  if (!source || typeof uPlot === "undefined") return;
  const all = JSON.parse(source.textContent);
  const colours = themeColours();
  for (const element of root.querySelectorAll("[data-chart]")) {
    const build = CHARTS[element.dataset.chart];
    if (!build || !all[element.dataset.chart]) continue;
    const [options, data] = build(all[element.dataset.chart], element.clientWidth || 480, colours);
    new uPlot(options, data, element);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  copyButtons(document);
  confirmations(document);
  charts(document);
});
