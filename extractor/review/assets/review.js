// The review workbench's keyboard and boxes. The pages work without it (plain forms);
// this adds: one key per decision, next/previous form, a value's box on hover, zoom.
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

  // A decision reloads the form: its zoom and where the page and the window were
  // scrolled are kept for the same form (a move on to the next form starts afresh).
  const pagesEl = document.getElementById("pages");
  function keepView() {
    if (!pagesEl) return;
    sessionStorage.setItem("extractor.view", JSON.stringify({
      path: location.pathname, zoomed: pagesEl.classList.contains("zoomed"),
      top: pagesEl.scrollTop, left: pagesEl.scrollLeft, y: window.scrollY}));
  }
  const kept = JSON.parse(sessionStorage.getItem("extractor.view") || "null");
  sessionStorage.removeItem("extractor.view");
  if (kept && pagesEl && kept.path === location.pathname) {
    pagesEl.classList.toggle("zoomed", kept.zoomed);
    const restore = () => { pagesEl.scrollTop = kept.top; pagesEl.scrollLeft = kept.left; window.scrollTo(0, kept.y); };
    restore();
    window.addEventListener("load", restore);  // (again once the page images have their size)
  }

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
  // (a page's boxes, or a text export's cells)
  const boxes = (field) => $$(".box, .tcell[data-field]").filter((b) => b.dataset.field === field);
  const pages = document.getElementById("pages");
  function show(field, on) { boxes(field).forEach((b) => b.classList.toggle("hover", on)); }
  function zoomTo(field) {
    const box = boxes(field)[0];
    if (!box || !pages) return;
    pages.classList.add("zoomed");
    box.classList.add("hover", "focus");
    setTimeout(() => box.classList.remove("focus"), 1500);
    box.scrollIntoView({block: "center", inline: "center"});
  }
  $$("td.v, tr.finding").forEach((el) => {
    el.addEventListener("mouseenter", () => show(el.dataset.field, true));
    el.addEventListener("mouseleave", () => show(el.dataset.field, false));
  });
  $$("td.v").forEach((el) => el.addEventListener("click", () => zoomTo(el.dataset.field)));
  $$("tr.finding").forEach((el) => el.addEventListener("click", (e) => { if (e.target.tagName !== "INPUT" && e.target.tagName !== "BUTTON") { select(el); zoomTo(el.dataset.field); } }));

  // A value typed in the table corrects it, on Enter; an unchanged one sends nothing.
  $$("form.edit").forEach((form) => form.addEventListener("submit", (e) => {
    const input = form.querySelector("input[name=value]");
    if (input.value === input.dataset.was) e.preventDefault();
  }));

  // Keys. The selected finding is the first open one until j/k move it.
  const findings = $$("tr.finding.open");
  let current = -1;
  function select(row) {
    $$("tr.finding.selected").forEach((r) => r.classList.remove("selected"));
    if (!row) return;
    row.classList.add("selected");
    current = findings.indexOf(row);
    show(row.dataset.field, true);
  }
  if (findings.length) select(findings[0]);
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
