// The SPARQL query page: Yasgui on our own endpoint, each example query one click from its results.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("yasgui");
  const endpoint = new URL(container.dataset.endpoint, document.baseURI).href;
  // The default property and class autocompleters call a third-party service as you type.
  Yasgui.Yasqe.defaults.autocompleters = ["variables", "prefixes"];
  // The prefix autocompleter would cache its bundled prefix list in localStorage; keep the browser's storage empty.
  Yasgui.Yasqe.Autocompleters.prefixes.persistenceId = null;
  const yasgui = new Yasgui(container, {
    requestConfig: { endpoint, method: "POST" },
    persistenceId: null, // keep no queries or results in the browser's storage
    endpointCatalogueOptions: { getData: () => [{ endpoint }], keys: [] },
  });
  for (const button of document.querySelectorAll("button[data-query]")) {
    button.addEventListener("click", () => {
      const tab = yasgui.getTab();
      tab.setQuery(button.dataset.query);
      tab.query();
      container.scrollIntoView({ behavior: "smooth" });
    });
  }
});
