// The review workbench's keyboard, boxes and decisions. The pages work without it
// (plain forms, a page load per decision); this adds: one key per decision, decisions
// applied in place (fetch: the page images, zoom and scroll stay), next/previous form,
// a value's box on hover, zoom.
"use strict";
(function () {
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const reviewer = document.getElementById("reviewer");

  // The reviewer's name: kept in this browser, sent with every decision.
  if (reviewer) {
    const saved = localStorage.getItem("extractor.reviewer");
    if (saved) reviewer.value = saved;
    reviewer.addEventListener("change", () => localStorage.setItem("extractor.reviewer", reviewer.value.trim()));
  }
  document.addEventListener("submit", (e) => {
    const r = e.target.querySelector("input[name=reviewer]");
    if (r && reviewer && reviewer.value.trim()) r.value = reviewer.value.trim();
    keepView();
  }, true);

  // Where a decision falls back to a page load (no fetch, or it failed), the form's zoom
  // and where the page and the window were scrolled are kept for the same form.
  const pagesEl = () => document.getElementById("pages");
  function keepView() {
    const el = pagesEl();
    if (!el) return;
    sessionStorage.setItem("extractor.view", JSON.stringify({
      path: location.pathname, zoomed: el.classList.contains("zoomed"),
      top: el.scrollTop, left: el.scrollLeft, y: window.scrollY}));
  }
  const kept = JSON.parse(sessionStorage.getItem("extractor.view") || "null");
  sessionStorage.removeItem("extractor.view");
  if (kept && pagesEl() && kept.path === location.pathname) {
    const el = pagesEl();
    el.classList.toggle("zoomed", kept.zoomed);
    const restore = () => { el.scrollTop = kept.top; el.scrollLeft = kept.left; window.scrollTo(0, kept.y); };
    restore();
    window.addEventListener("load", restore);  // (again once the page images have their size)
  }

  // --- a decision applied in place ---------------------------------------------------
  // The server answers a decision with the form's page as it now stands (or the next
  // form's, when this one is done); the parts that changed are taken from it: the side
  // with the findings and values, the header's place in the queue, the boxes' colours.
  // The page images stay, and with them the zoom and the scroll.
  let busy = false;
  document.addEventListener("submit", async (e) => {
    const form = e.target;
    if (e.defaultPrevented || !window.fetch || form.getAttribute("action") !== "/decide") return;
    e.preventDefault();
    sessionStorage.removeItem("extractor.view");  // (kept for a page load; none comes)
    if (busy) return;  // (one decision at a time: the form's version guards the rest)
    busy = true;
    const body = new URLSearchParams(new FormData(form));
    if (e.submitter && e.submitter.name) body.set(e.submitter.name, e.submitter.value);
    try {
      const response = await fetch("/decide", {method: "POST", body, credentials: "same-origin",
                                               headers: {"Content-Type": "application/x-www-form-urlencoded"}});
      const text = await response.text();
      const next = new DOMParser().parseFromString(text, "text/html");
      if (!next.querySelector("section.side")) { said(text.trim() || response.statusText); return; }
      const url = new URL(response.url);
      if (response.redirected && url.pathname !== location.pathname) {
        moveTo(next, url);
      } else {
        update(next);
        if (response.redirected) history.replaceState(null, "", url.pathname + url.search);
      }
      document.documentElement.dataset.applied = String(Number(document.documentElement.dataset.applied || 0) + 1);
    } catch (err) {
      said("the decision could not be sent (" + err + "): is the server still running?");
    } finally {
      busy = false;
    }
  });

  function said(message) {  // a refusal that is not a form page (a stale token, a server gone)
    let p = document.getElementById("error");
    if (!p) {
      p = document.createElement("p");
      p.id = "error";
      p.className = "error-message";
      p.setAttribute("role", "alert");
      const side = document.querySelector("section.side h1");
      if (side) side.after(p); else document.body.prepend(p);
    }
    p.textContent = message;
  }

  function swapHeader(next) {
    const header = document.querySelector("header.top");
    const incoming = next.querySelector("header.top");
    if (!header || !incoming) return;
    $$("#prev, .position, #next", header).forEach((el) => el.remove());
    const anchor = header.querySelector("label.reviewer");
    $$("#prev, .position, #next", incoming).forEach((el) => header.insertBefore(document.adoptNode(el), anchor));
  }

  function update(next) {  // the same form, after a decision
    swapHeader(next);
    document.querySelector("section.side").replaceWith(document.adoptNode(next.querySelector("section.side")));
    const pages = pagesEl(), incoming = next.getElementById("pages");
    if (pages && incoming) {
      $$(".page", incoming).forEach((np) => {
        const old = pages.querySelector(`.page[data-page="${np.dataset.page}"]`);
        if (!old) return;
        $$(".box", old).forEach((b) => b.remove());
        $$(".box", np).forEach((b) => old.appendChild(document.adoptNode(b)));
      });
      const text = pages.querySelector("#textsource"), newText = incoming.querySelector("#textsource");
      if (text && newText) text.innerHTML = newText.innerHTML;
    }
    init();
  }

  function moveTo(next, url) {  // the form is done: on to the next one
    document.title = next.title;
    swapHeader(next);
    document.querySelector("main").replaceWith(document.adoptNode(next.querySelector("main")));
    const head = document.head;
    $$("link[rel=prefetch]", next.head).forEach((l) => {
      if (!head.querySelector(`link[rel=prefetch][href="${l.getAttribute("href")}"]`)) head.appendChild(document.adoptNode(l));
    });
    history.pushState(null, "", url.pathname + url.search);
    window.scrollTo(0, 0);
    init();
  }
  // Back and forward over forms a decision moved through: the page as the server has it now.
  window.addEventListener("popstate", () => location.reload());

  // --- the form's page: boxes, keys ---------------------------------------------------
  const boxes = (field) => $$(".box, .tcell[data-field]").filter((b) => b.dataset.field === field);
  function show(field, on) { boxes(field).forEach((b) => b.classList.toggle("hover", on)); }
  function zoomTo(field) {
    const box = boxes(field)[0], pages = pagesEl();
    if (!box || !pages) return;
    pages.classList.add("zoomed");
    box.classList.add("hover", "focus");
    setTimeout(() => box.classList.remove("focus"), 1500);
    box.scrollIntoView({block: "center", inline: "center"});
  }

  // The selected finding is the first open one until j/k move it.
  let findings = [];
  let current = -1;
  function select(row) {
    $$("tr.finding.selected").forEach((r) => r.classList.remove("selected"));
    if (!row) return;
    row.classList.add("selected");
    current = findings.indexOf(row);
    show(row.dataset.field, true);
  }

  // What a form's side needs bound: run at load and after each decision applied in place.
  function init() {
    // A dismissal needs a reason: ask for it here rather than after a round trip.
    $$("form.decide").forEach((form) => {
      form.addEventListener("submit", (e) => {
        const button = e.submitter;
        const comment = form.querySelector("input.comment");
        if (button && button.value === "dismiss" && comment && !comment.value.trim()) {
          e.preventDefault();
          comment.dataset.intent = "dismiss";
          comment.placeholder = "reason for dismissing (Enter)";
          comment.focus();
        }
      });
      // Enter in the comment field decides what was asked (dismiss) or confirms; in the value field, corrects.
      const comment = form.querySelector("input.comment");
      if (comment) comment.addEventListener("keydown", (e) => {
        if (e.key !== "Enter") return;
        e.preventDefault();
        form.requestSubmit(form.querySelector("button." + (comment.dataset.intent || "confirm")));
      });
    });
    // A value's box: shown while its value or finding is under the pointer; a click zooms to it.
    $$("td.v, tr.finding").forEach((el) => {
      el.addEventListener("mouseenter", () => show(el.dataset.field, true));
      el.addEventListener("mouseleave", () => show(el.dataset.field, false));
    });
    $$("td.v").forEach((el) => el.addEventListener("click", () => zoomTo(el.dataset.field)));
    $$("tr.finding").forEach((el) => el.addEventListener("click", (e) => {
      if (e.target.tagName !== "INPUT" && e.target.tagName !== "BUTTON") { select(el); zoomTo(el.dataset.field); }
    }));
    // A value typed in the table corrects it, on Enter; an unchanged one sends nothing.
    $$("form.edit").forEach((form) => form.addEventListener("submit", (e) => {
      const input = form.querySelector("input[name=value]");
      if (input.value === input.dataset.was) e.preventDefault();
    }));
    findings = $$("tr.finding.open");
    current = -1;
    if (findings.length) select(findings[0]);
  }
  init();

  const sel = () => findings[current];
  const go = (id) => { const a = document.getElementById(id); if (a) location.href = a.href; };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (typing) {
      if (e.key === "Escape") document.activeElement.blur();
      return;
    }
    const row = sel();
    const form = row && row.querySelector("form.decide");
    const pages = pagesEl();
    switch (e.key) {
      case "n": go("next"); break;
      case "p": go("prev"); break;
      case "j": if (findings.length) select(findings[Math.min(current + 1, findings.length - 1)]); break;
      case "k": if (findings.length) select(findings[Math.max(current - 1, 0)]); break;
      case "z":  // zoom to the selected finding's box, or back out
        if (!pages) break;
        if (pages.classList.contains("zoomed")) pages.classList.remove("zoomed");
        else if (row && boxes(row.dataset.field).length) zoomTo(row.dataset.field);
        else pages.classList.add("zoomed");
        break;
      case "c": if (form) form.requestSubmit(form.querySelector("button.confirm")); break;
      case "x": if (form) form.requestSubmit(form.querySelector("button.dismiss")); break;
      case "e": {
        const v = form && form.querySelector("input.value");
        if (v) { v.focus(); v.select(); }
        break;
      }
      default: return;
    }
    e.preventDefault();
  });
})();
