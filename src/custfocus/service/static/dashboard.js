// The live dashboard: polls the figures every few seconds and draws them.
// Every value goes in through textContent, never innerHTML: customer text cannot become markup.
"use strict";

const REFRESH_MS = 5000;
const PERIODS = ["today", "week", "month"];
const METRICS = [["nps", "NPS", 0, ""], ["csat", "CSAT", 0, "%"], ["ces", "CES", 2, ""]];

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function figure(value, digits, unit) {
  return value === null || value === undefined ? "–" : value.toFixed(digits) + unit;
}

function pulseCell(metric, digits, unit) {
  const cell = element("td");
  if (!metric || metric.n === 0) {
    cell.append(element("span", "no answers", "muted"));
    return cell;
  }
  cell.append(element("strong", figure(metric.estimate, digits, unit)));
  cell.append(element("span", " [" + figure(metric.low, digits, unit) + ", " + figure(metric.high, digits, unit) + "]", "interval"));
  cell.append(element("span", " n=" + metric.n, "muted"));
  if (metric.too_small) cell.append(element("div", "too few to conclude", "caveat"));
  return cell;
}

function drawPulse(pulse) {
  const body = document.querySelector("#pulse tbody");
  body.replaceChildren();
  for (const [kind, label, digits, unit] of METRICS) {
    const row = element("tr");
    row.append(element("th", label));
    for (const period of PERIODS) row.append(pulseCell(pulse[period].metrics[kind], digits, unit));
    body.append(row);
  }
}

function hours(value) {
  return value < 48 ? value.toFixed(1) + " h" : (value / 24).toFixed(1) + " d";
}

function drawCases(cases, openCount) {
  document.getElementById("open-cases").textContent = "(" + openCount + " open)";
  const body = document.querySelector("#cases tbody");
  body.replaceChildren();
  for (const item of cases) {
    const row = element("tr", null, item.overdue ? "overdue" : "");
    row.append(element("td", "#" + item.id), element("td", item.customer_id), element("td", item.reason),
               element("td", item.owner), element("td", item.state), element("td", hours(item.age_hours)),
               element("td", item.due_at.slice(0, 16).replace("T", " ") + (item.overdue ? " (overdue)" : "")));
    body.append(row);
  }
  if (!cases.length) {
    const row = element("tr");
    const cell = element("td", "No open cases.", "muted");
    cell.colSpan = 7;
    row.append(cell);
    body.append(row);
  }
}

function drawComments(comments) {
  const list = document.getElementById("comments");
  list.replaceChildren();
  for (const item of comments) {
    const entry = element("li");
    entry.append(element("span", item.kind.toUpperCase() + " " + item.score, "score " + item.kind));
    entry.append(element("q", item.comment, "comment"));
    const about = [item.date, item.touchpoint, item.department, item.customer_id].filter(Boolean).join(" · ");
    entry.append(element("span", about, "muted"));
    list.append(entry);
  }
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const answer = await fetch("/api/v1/dashboard", {credentials: "same-origin", headers: {"Accept": "application/json"}});
    if (answer.status === 401) {
      window.location.assign("/");
      return;
    }
    if (!answer.ok) throw new Error("HTTP " + answer.status);
    const data = await answer.json();
    drawPulse(data.pulse);
    drawCases(data.cases, data.open_cases);
    drawComments(data.comments);
    status.textContent = "live · " + new Date().toLocaleTimeString();
    status.className = "live";
  } catch (failure) {
    status.textContent = "reconnecting… (" + failure.message + ")";
    status.className = "live stale";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  refresh();
  setInterval(refresh, REFRESH_MS);
});
