/* The network of actors drawn with Cytoscape (vendor/cytoscape), over the lists the page shows without it.

Each .network-graph element names the JSON of its view (data-src, /network.json?...). Actors are nodes
(a circle for a person, a rounded square for an organization, a hexagon for a group); the records of one
relation between two actors are one line, coloured as the legend's CSS says (--relation, network.css).
Double-clicking an actor fetches its neighbours and adds them; a hub's "more" node fetches its next page.
PNG and SVG downloads draw what is on screen. Cytoscape itself is loaded only when a graph is drawn.
*/
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var SHAPES = { person: "ellipse", organization: "round-rectangle", group: "hexagon" };
  var library = null;

  function loadLibrary(src) {
    if (window.cytoscape) { return Promise.resolve(window.cytoscape); }
    if (!library) {
      library = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = function () { resolve(window.cytoscape); };
        script.onerror = function () { reject(new Error("could not load " + src)); };
        document.head.appendChild(script);
      });
    }
    return library;
  }

  function cssValue(element, name) {
    return getComputedStyle(element).getPropertyValue(name).trim();
  }

  /* The colour of each relation, as the legend's CSS gives it: the one definition of the colours. */
  function relationColours(container) {
    var colours = {};
    container.querySelectorAll(".network-legend [data-relation]").forEach(function (item) {
      colours[item.getAttribute("data-relation")] = cssValue(item, "--relation");
    });
    return colours;
  }

  function el(tag, text, attributes) {
    var element = document.createElement(tag);
    if (text) { element.textContent = text; }
    Object.keys(attributes || {}).forEach(function (name) { element.setAttribute(name, attributes[name]); });
    return element;
  }

  function link(item) {
    return item.href ? el("a", item.label, { href: item.href }) : el("span", item.label);
  }

  function actorPath(href) {
    return href.replace(/^\/id\//, "");
  }

  function download(blob, name) {
    var anchor = el("a", "", { href: URL.createObjectURL(blob), download: name });
    document.body.appendChild(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(function () { URL.revokeObjectURL(anchor.href); }, 1000);
  }

  function Graph(container) {
    this.container = container;
    this.canvas = container.querySelector(".network-canvas");
    this.detail = container.querySelector(".network-detail");
    this.count = container.querySelector(".network-count");
    this.source = new URL(container.getAttribute("data-src"), location.href);
    this.colours = relationColours(container);
    var root = document.documentElement;
    this.ink = cssValue(root, "--ink");
    this.paper = cssValue(root, "--paper");
    this.rule = cssValue(root, "--rule");
    this.focusColour = cssValue(root, "--focus");
    this.linkColour = cssValue(root, "--link");
  }

  Graph.prototype.style = function () {
    return [
      { selector: "node", style: {
        "label": "data(label)", "font-size": 10, "color": this.ink, "text-valign": "bottom", "text-margin-y": 3,
        "text-wrap": "wrap", "text-max-width": 110, "background-color": this.ink,
        "width": "mapData(neighbours, 1, 30, 14, 44)", "height": "mapData(neighbours, 1, 30, 14, 44)",
        "min-zoomed-font-size": 6 } },
      { selector: "node.focus", style: { "border-width": 4, "border-color": this.focusColour } },
      { selector: "node.more", style: {
        "shape": "round-tag", "background-color": this.paper, "border-width": 1, "border-color": this.linkColour,
        "color": this.linkColour, "text-valign": "center", "width": 60, "height": 20, "text-margin-y": 0 } },
      { selector: "node:selected", style: { "background-color": this.linkColour } },
      { selector: "edge", style: {
        "curve-style": "bezier", "width": "mapData(count, 1, 10, 1.5, 5)", "line-color": "data(colour)",
        "target-arrow-color": "data(colour)", "target-arrow-shape": "triangle", "arrow-scale": 0.8,
        "label": "data(label)", "font-size": 8, "color": this.ink, "text-rotation": "autorotate",
        "text-background-color": this.paper, "text-background-opacity": 0.85, "text-background-padding": 1,
        "min-zoomed-font-size": 7 } },
      { selector: "edge.undirected", style: { "target-arrow-shape": "none", "line-style": "dashed" } },
      { selector: "edge.more", style: { "line-color": this.rule, "target-arrow-shape": "none", "label": "" } },
      { selector: "edge:selected", style: { "width": 5 } }
    ].concat(Object.keys(SHAPES).map(function (kind) {
      return { selector: "node." + kind, style: { "shape": SHAPES[kind] } };
    }));
  };

  Graph.prototype.draw = function () {
    var graph = this;
    this.container.hidden = false;
    return loadLibrary(this.container.getAttribute("data-library")).then(function (cytoscape) {
      graph.cy = cytoscape({ container: graph.canvas, style: graph.style(), wheelSensitivity: 0.3,
                             minZoom: 0.1, maxZoom: 4 });
      graph.listen();
      return graph.fetch(graph.source);
    });
  };

  Graph.prototype.fetch = function (url) {
    var graph = this;
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) { throw new Error(response.status + " " + response.statusText + " from " + url); }
      return response.json();
    }).then(function (view) {
      graph.merge(view);
      return view;
    });
  };

  /* Add a view's actors and relations to the drawing; what is drawn already stays where it is. */
  Graph.prototype.merge = function (view) {
    var cy = this.cy, colours = this.colours, added = [];
    function href(iri) {
      return iri.indexOf(view.base) === 0 ? "/" + iri.slice(view.base.length) : null;
    }
    function named(iri) {
      return { label: view.labels[iri] || iri, href: href(iri) };
    }
    view.nodes.forEach(function (node) {
      if (cy.getElementById(node.id).empty()) {
        added.push({ group: "nodes", classes: "actor " + node.kind,
                     data: { id: node.id, label: node.label, kind: node.kind, href: href(node.id) } });
      }
    });
    cy.add(added);
    view.focus.forEach(function (iri) { cy.getElementById(iri).addClass("focus expanded"); });
    view.edges.forEach(function (edge) {
      var id = [edge.from, edge.to, edge.relation].join("\n");
      var line = cy.getElementById(id);
      var key = [edge.allegation || edge.event, edge.source, edge.record || ""].join("\n");
      if (line.empty()) {
        cy.add({ group: "edges", classes: edge.relation === "co-accused" ? "relation undirected" : "relation",
                 data: { id: id, source: edge.from, target: edge.to, relation: edge.relation,
                         colour: colours[edge.relation], records: {}, count: 0, label: edge.relation } });
        line = cy.getElementById(id);
      }
      var records = line.data("records");
      if (!records[key]) {
        records[key] = { on: named(edge.allegation || edge.event), status: edge.status && named(edge.status).label,
                         source: named(edge.source), record: edge.record && href(edge.record) };
        var count = line.data("count") + 1;
        line.data({ count: count, label: count > 1 ? edge.relation + " ×" + count : edge.relation });
      }
    });
    view.hubs.forEach(function (hub) { this.showMore(hub); }, this);
    this.layout();
  };

  Graph.prototype.showMore = function (hub) {
    var cy = this.cy, id = "more\n" + hub.actor;
    cy.remove(cy.getElementById(id));
    if (!hub.next) { return; }
    cy.add([{ group: "nodes", classes: "more", data: { id: id, label: "+" + (hub.total - hub.shown) + " more",
                                                        next: hub.next } },
            { group: "edges", classes: "more", data: { id: id + "\nedge", source: hub.actor, target: id } }]);
  };

  /* Size each actor by the actors it is drawn related to, lay the drawing out again, and say what it shows. */
  Graph.prototype.layout = function () {
    this.cy.nodes(".actor").forEach(function (node) {
      node.data("neighbours", node.neighborhood("node.actor").difference(node).length);
    });
    this.cy.layout({ name: "cose", animate: false, nodeDimensionsIncludeLabels: true, padding: 20, gravity: 0.3,
                     idealEdgeLength: function () { return 110; }, nodeRepulsion: function () { return 400000; },
                     componentSpacing: 60, numIter: 1500 }).run();
    var actors = this.cy.nodes(".actor").length, lines = this.cy.edges(".relation");
    var records = lines.toArray().reduce(function (sum, line) { return sum + line.data("count"); }, 0);
    this.container.setAttribute("data-actors", actors);
    this.container.setAttribute("data-relations", records);
    this.container.setAttribute("data-lines", lines.length);
    this.count.textContent = actors + (actors === 1 ? " actor, " : " actors, ") + records +
      (records === 1 ? " relation drawn" : " relations drawn");
  };

  Graph.prototype.listen = function () {
    var graph = this;
    this.cy.on("dbltap", "node.actor", function (event) { graph.expand(event.target); });
    this.cy.on("tap", "node.more", function (event) {
      graph.fetch(event.target.data("next"));
    });
    this.cy.on("tap", "node.actor", function (event) { graph.describeActor(event.target); });
    this.cy.on("tap", "edge.relation", function (event) { graph.describeLine(event.target); });
    this.container.querySelectorAll("[data-action]").forEach(function (button) {
      button.addEventListener("click", function () { graph[button.getAttribute("data-action")](); });
    });
  };

  /* Add the actors related to an actor (a page of them), under the same filters as the view. */
  Graph.prototype.expand = function (node) {
    var url = new URL(this.source), path = actorPath(node.data("href"));
    url.searchParams.delete("actor");
    url.searchParams.delete("page");
    url.searchParams.append("actor", path);
    this.container.dispatchEvent(new CustomEvent("network:expand", { detail: path }));
    return this.fetch(url);
  };

  Graph.prototype.describeActor = function (node) {
    var graph = this, paragraph = el("p");
    paragraph.append(link({ label: node.data("label"), href: node.data("href") }),
                     " (" + node.data("kind") + "): " + node.connectedEdges(".relation").length + " lines drawn. ");
    var button = el("button", "Add the actors related to it", { type: "button" });
    button.addEventListener("click", function () { graph.expand(node); });
    paragraph.append(button);
    this.detail.replaceChildren(paragraph);
  };

  Graph.prototype.describeLine = function (line) {
    var heading = el("p"), list = el("ul"), records = line.data("records");
    heading.append(link({ label: line.source().data("label"), href: line.source().data("href") }),
                   " " + line.data("relation") + " ",
                   link({ label: line.target().data("label"), href: line.target().data("href") }), ":");
    Object.keys(records).sort().forEach(function (key) {
      var edge = records[key], item = el("li");
      item.append(link(edge.on));
      if (edge.status) { item.append(" (" + edge.status + ")"); }
      item.append(", in ", link(edge.source));
      if (edge.record) { item.append(" · ", link({ label: "record", href: edge.record })); }
      list.append(item);
    });
    this.detail.replaceChildren(heading, list);
  };

  Graph.prototype.fit = function () { this.cy.fit(undefined, 20); };

  Graph.prototype.png = function () {
    download(this.cy.png({ output: "blob", full: true, scale: 2, bg: this.paper }), "network.png");
  };

  Graph.prototype.svg = function () {
    var text = new XMLSerializer().serializeToString(this.svgElement());
    download(new Blob([text], { type: "image/svg+xml" }), "network.svg");
  };

  /* The drawing as SVG, from the positions Cytoscape gave the actors and the paths of its lines. */
  Graph.prototype.svgElement = function () {
    var graph = this, box = this.cy.elements().boundingBox({ includeLabels: true }), pad = 20;
    var svg = document.createElementNS(SVG_NS, "svg"), defs = document.createElementNS(SVG_NS, "defs");
    function add(parent, tag, attributes, text) {
      var element = document.createElementNS(SVG_NS, tag);
      Object.keys(attributes).forEach(function (name) { element.setAttribute(name, attributes[name]); });
      if (text) { element.textContent = text; }
      parent.appendChild(element);
      return element;
    }
    add(svg, "title", {}, "Network of actors");
    svg.appendChild(defs);
    add(svg, "rect", { x: box.x1 - pad, y: box.y1 - pad, width: box.w + 2 * pad, height: box.h + 2 * pad,
                       fill: this.paper });
    Object.keys(this.colours).forEach(function (relation, index) {
      var marker = add(defs, "marker", { id: "arrow-" + index, viewBox: "0 0 10 10", refX: 10, refY: 5,
                                         markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" });
      add(marker, "path", { d: "M0,0 L10,5 L0,10 z", fill: graph.colours[relation] });
    });
    var markers = Object.keys(this.colours);
    this.cy.edges(".relation").forEach(function (line) {
      var start = line.sourceEndpoint(), end = line.targetEndpoint(), middle = line.midpoint();
      var control = { x: 2 * middle.x - (start.x + end.x) / 2, y: 2 * middle.y - (start.y + end.y) / 2 };
      var colour = line.data("colour"), attributes = {
        d: "M" + start.x + "," + start.y + " Q" + control.x + "," + control.y + " " + end.x + "," + end.y,
        fill: "none", stroke: colour, "stroke-width": line.numericStyle("width") };
      if (line.hasClass("undirected")) { attributes["stroke-dasharray"] = "6 4"; }
      else { attributes["marker-end"] = "url(#arrow-" + markers.indexOf(line.data("relation")) + ")"; }
      add(svg, "path", attributes);
      add(svg, "text", { x: middle.x, y: middle.y - 2, "font-size": 8, "text-anchor": "middle", fill: graph.ink,
                         "font-family": "sans-serif" }, line.data("label"));
    });
    this.cy.nodes(".actor").forEach(function (node) {
      var at = node.position(), radius = node.width() / 2, kind = node.data("kind"), shape;
      if (kind === "organization") {
        shape = add(svg, "rect", { x: at.x - radius, y: at.y - radius, width: 2 * radius, height: 2 * radius, rx: 4 });
      } else if (kind === "group") {
        var corners = [0, 1, 2, 3, 4, 5].map(function (step) {
          var angle = Math.PI / 3 * step;
          return (at.x + radius * Math.cos(angle)) + "," + (at.y + radius * Math.sin(angle));
        });
        shape = add(svg, "polygon", { points: corners.join(" ") });
      } else {
        shape = add(svg, "circle", { cx: at.x, cy: at.y, r: radius });
      }
      shape.setAttribute("fill", graph.ink);
      if (node.hasClass("focus")) {
        shape.setAttribute("stroke", graph.focusColour);
        shape.setAttribute("stroke-width", 4);
      }
      add(svg, "text", { x: at.x, y: at.y + radius + 12, "font-size": 10, "text-anchor": "middle", fill: graph.ink,
                         "font-family": "sans-serif" }, node.data("label"));
    });
    svg.setAttribute("xmlns", SVG_NS);
    svg.setAttribute("viewBox", [box.x1 - pad, box.y1 - pad, box.w + 2 * pad, box.h + 2 * pad].join(" "));
    svg.setAttribute("width", Math.ceil(box.w + 2 * pad));
    svg.setAttribute("height", Math.ceil(box.h + 2 * pad));
    return svg;
  };

  /* On /network: filters apply as soon as they change, and an expanded actor joins the view's address,
     its exports and its table's link, so that the view can be shared and exported as it is drawn. */
  function followTheView(graph, form) {
    var maximum = Number(form.getAttribute("data-max-actors"));
    form.addEventListener("change", function () { form.requestSubmit(); });
    graph.container.addEventListener("network:expand", function (event) {
      var here = new URL(location.href), actors = here.searchParams.getAll("actor");
      if (actors.indexOf(event.detail) >= 0 || actors.length >= maximum) { return; }
      here.searchParams.append("actor", event.detail);
      here.searchParams.delete("relations");
      history.replaceState(null, "", here);
      document.querySelectorAll("[data-view-export]").forEach(function (anchor) {
        anchor.setAttribute("href", new URL(anchor.href).pathname + here.search);
      });
      var reload = document.querySelector(".network-reload");
      reload.querySelector("a").href = here;
      reload.hidden = false;
    });
  }

  document.querySelectorAll(".network-graph").forEach(function (container) {
    var graph = new Graph(container), details = container.closest("details"), form = document.querySelector(
      "form.network-filters");
    container.network = graph;  // for scripts that read the drawing, such as the browser tests
    if (form) { followTheView(graph, form); }
    if (!details) {
      graph.draw();
      return;
    }
    details.hidden = false;
    details.addEventListener("toggle", function () {
      if (details.open && !graph.cy) { graph.draw(); }
    });
  });
})();
