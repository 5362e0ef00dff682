// The SPARQL query page: Yasgui on our own endpoint in place of the plain form, the examples one menu pick from
// their results, our IRIs linked to this server's pages and shown with the predeclared prefixes, literals as text.
"use strict";

// The page names our IRI base and where its pages are served (the rule of kg.ids.local_path), and the prefixes.
function iriReader(container) {
  const base = container.dataset.iriBase;
  const localRoot = container.dataset.localRoot;
  const predeclared = JSON.parse(container.dataset.prefixes);
  return {
    predeclared,
    localPath: (iri) => (iri.startsWith(base) ? localRoot + iri.slice(base.length) : null),
  };
}

// ``sol:Allegation`` by the longest namespace that ``iri`` starts with; null if none does.
function prefixedName(iri, prefixes) {
  let best = null;
  for (const [prefix, namespace] of Object.entries(prefixes)) {
    if (namespace && iri.startsWith(namespace) && (best === null || namespace.length > best[1].length)) {
      best = [prefix, namespace];
    }
  }
  return best && `${best[0]}:${iri.slice(best[1].length)}`;
}

function iriElement(iri, prefixes, reader) {
  const label = prefixedName(iri, prefixes) || iri;
  const local = reader.localPath(iri);
  // Only web addresses become links: an IRI such as "javascript:..." in the data must not be followable.
  if (local === null && !/^https?:\/\//.test(iri)) {
    const text = document.createElement("span");
    text.textContent = label;
    return text;
  }
  const link = document.createElement("a");
  link.className = "iri";
  link.textContent = label;
  link.title = iri;
  if (local === null) {
    link.href = iri;
    link.rel = "external noopener";
    link.target = "_blank";
  } else {
    link.href = local;
  }
  return link;
}

function literalElement(binding, prefixes) {
  const text = document.createElement("span");
  text.className = "nonIri literal";
  text.textContent = binding.value;
  if (binding["xml:lang"]) {
    text.lang = binding["xml:lang"];
    text.title = `language: ${binding["xml:lang"]}`;
  } else if (binding.datatype) {
    text.title = prefixedName(binding.datatype, prefixes) || binding.datatype;
  }
  return text;
}

// Yasr's table, each cell drawn as a reader meets it (the cell's HTML is built by the DOM, so values are escaped).
function readableTable(reader) {
  return class ReadableTable extends Yasgui.Yasr.plugins.table {
    // Whole values, wrapped, rather than cut to the column's width: the table scrolls sideways in its own box.
    draw(config) {
      return super.draw({ isEllipsed: false, ...config });
    }

    getCellContent(binding, prefixes) {
      const all = { ...reader.predeclared, ...prefixes };
      const cell = document.createElement("div");
      if (binding.type === "uri") {
        cell.append(iriElement(binding.value, all, reader));
      } else if (binding.type === "bnode") {
        cell.append(`_:${binding.value}`);
      } else {
        cell.append(literalElement(binding, all));
      }
      return cell.outerHTML;
    }
  };
}

document.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("yasgui");
  const form = document.getElementById("query-form");
  const menu = document.querySelector(".example-menu");
  const reader = iriReader(container);
  const endpoint = new URL(container.dataset.endpoint, document.baseURI).href;
  // The default property and class autocompleters call a third-party service as you type.
  Yasgui.Yasqe.defaults.autocompleters = ["variables", "prefixes"];
  // The prefix autocompleter would cache its bundled prefix list in localStorage; keep the browser's storage empty.
  Yasgui.Yasqe.Autocompleters.prefixes.persistenceId = null;
  Yasgui.Yasr.registerPlugin("table", readableTable(reader));
  form.hidden = true;
  container.hidden = false;
  const yasgui = new Yasgui(container, {
    requestConfig: { endpoint, method: "POST" },
    persistenceId: null, // keep no queries or results in the browser's storage
    autofocus: false, // on a phone, focusing the editor opens the keyboard over the page
    populateFromUrl: false, // the address names an example (?example=), read by the server, not a Yasgui state
    endpointCatalogueOptions: { getData: () => [{ endpoint }], keys: [] },
    yasr: { prefixes: reader.predeclared },
  });
  const tab = yasgui.getTab();
  tab.setQuery(document.getElementById("query-text").value);

  // After a run, bring the results into view when they start in the lower part of the window (on a phone they
  // are below the editor).
  yasgui.on("queryResponse", (instance, queried) => {
    const results = queried.getYasr();
    results.once("drawn", () => {
      if (results.rootEl.getBoundingClientRect().top > window.innerHeight / 2) {
        results.rootEl.scrollIntoView({ behavior: "smooth", block: "start" });
      }
    });
  });

  const chosen = document.querySelector(".chosen-example");
  const run = (link) => {
    menu.open = false;
    chosen.querySelector("strong").textContent = link.textContent;
    chosen.querySelector("span").textContent = link.parentElement.querySelector(".description").textContent;
    chosen.hidden = false;
    for (const other of menu.querySelectorAll("a[aria-current]")) {
      other.removeAttribute("aria-current");
    }
    link.setAttribute("aria-current", "true");
    tab.setQuery(link.dataset.query);
    tab.query();
    history.replaceState(null, "", link.href); // the address names the example, to share or come back to
  };
  for (const link of menu.querySelectorAll("a[data-query]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      run(link);
    });
  }
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  if (container.dataset.run) {
    tab.query();
  }
});
