// The timeline page's time axis: the view the page lists (its JSON twin, same filters), drawn with vis-timeline.
// The page reads as a dated list without this script; the axis only adds a picture of when things happened.
"use strict";

(function () {
  const GROUPS = [{id: "event", content: "Events"}, {id: "status", content: "Status changes"}];
  const NARROW = 600;  // px: below this the group labels are shortened, to leave the axis room

  // A day of the record ("2020-03-26") as a local date, so that the axis shows it on that day in any time zone.
  function day(text) {
    const [year, month, date] = text.split("-").map(Number);
    return new Date(year, month - 1, date);
  }

  // An item's face: a link to its page, built as DOM so that labels stay text. A status change shows only
  // its status, so that the axis stays readable; its allegation is in the link's title, as in the list below.
  function face(item) {
    const anchor = document.createElement("a");
    anchor.href = item.url;
    anchor.className = "timeline-item-link";
    anchor.textContent = item.kind === "status" && item.type ? item.type.label : item.label;
    anchor.title = item.when + " · " + item.label;
    return anchor;
  }

  function draw(container, data) {
    const items = new vis.DataSet(data.items.map((item) => ({
      id: item.iri,
      group: item.kind,
      content: face(item),
      start: day(item.start),
      end: item.axis_end ? day(item.axis_end) : undefined,
      type: item.axis_end ? "range" : "box",
      className: "kind-" + item.kind + " precision-" + (item.end ? "span" : item.precision),
      url: item.url,
    })));
    const narrow = container.parentElement.clientWidth < NARROW;
    const groups = new vis.DataSet(GROUPS
      .filter((group) => data.items.some((item) => item.kind === group.id))
      .map((group) => narrow ? {id: group.id, content: group.content.split(" ")[0]} : group));
    // The window spans every item's dates with a margin; fitting it to the items' drawn widths instead
    // zooms a phone's axis onto a few months.
    const first = Math.min(...items.map((item) => item.start.getTime()));
    const last = Math.max(...items.map((item) => (item.end || item.start).getTime()));
    const margin = Math.max((last - first) * 0.12, 90 * 24 * 3600 * 1000);  // room for the boxes at either end
    container.hidden = false;
    const timeline = new vis.Timeline(container, items, groups, {
      stack: true,
      zoomKey: "ctrlKey",
      orientation: {axis: "both"},
      margin: {item: {horizontal: 4, vertical: 6}},
      showTooltips: false,
      showCurrentTime: false,
      start: new Date(first - margin),
      end: new Date(last + margin),
      selectable: false,
    });
    // A tap on an item anywhere on its bar, not only on its text, opens its page.
    timeline.on("click", (properties) => {
      if (properties.item !== null && properties.event.target.closest("a") === null) {
        window.location.assign(items.get(properties.item).url);
      }
    });
    container.dataset.items = String(data.items.length);
  }

  function start() {
    const container = document.getElementById("timeline-axis");
    if (!container || typeof vis === "undefined") {
      return;
    }
    fetch(container.dataset.json, {headers: {Accept: "application/json"}})
      .then((response) => response.ok ? response.json() : Promise.reject(new Error(response.statusText)))
      .then((data) => {
        if (data.items.length) {
          draw(container, data);
        }
      })
      .catch(() => { container.hidden = true; });  // the list below still says everything
    // Choosing a filter shows its view at once; the button stays for those who move through the form.
    document.querySelectorAll(".timeline-filters select").forEach((select) => {
      select.addEventListener("change", () => select.form.requestSubmit());
    });
  }

  document.addEventListener("DOMContentLoaded", start);
}());
