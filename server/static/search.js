// Suggestions as one types in the search boxes: names, aliases and titles from /suggest, in an ARIA 1.2
// combobox (arrow keys move, Enter opens the one chosen, Escape closes). Without it the boxes search as forms.
"use strict";

const MIN_CHARACTERS = 2;
const WAIT_MS = 150; // typing pauses this long before asking, so that a fast typist sends one request
const SUGGESTIONS = 8;

function setUpCombobox(input, number) {
  const form = input.form;
  const list = document.createElement("ul");
  list.id = `search-suggestions-${number}`;
  list.className = "search-suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Suggestions");
  list.hidden = true;
  const announcer = document.createElement("div");
  announcer.className = "visually-hidden";
  announcer.setAttribute("aria-live", "polite");
  form.classList.add("has-suggestions");
  form.append(list, announcer);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("autocomplete", "off");

  let suggestions = [];
  let active = -1;
  let waiting = null;
  let asking = null;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function choose(index) {
    for (const [position, option] of [...list.children].entries()) {
      option.setAttribute("aria-selected", String(position === index));
    }
    active = index;
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    const option = list.children[index];
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  function show(found) {
    suggestions = found;
    list.replaceChildren(...found.map((item, index) => {
      const option = document.createElement("li");
      option.id = `${list.id}-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      const label = document.createElement("span");
      label.className = "suggestion-label";
      label.textContent = item.label;
      const kind = document.createElement("span");
      kind.className = "badge";
      kind.textContent = item.type;
      option.append(label, " ", kind);
      if (item.matched) {
        const matched = document.createElement("span");
        matched.className = "suggestion-matched";
        matched.textContent = `${item.matched.field}: ${item.matched.text}`;
        option.append(matched);
      }
      option.addEventListener("click", () => go(index));
      return option;
    }));
    active = -1;
    list.hidden = found.length === 0;
    input.setAttribute("aria-expanded", String(found.length > 0));
    announcer.textContent = found.length ? `${found.length} suggestion${found.length === 1 ? "" : "s"}` : "";
  }

  function go(index) {
    window.location.assign(suggestions[index].url);
  }

  async function ask(text) {
    asking?.abort();
    asking = new AbortController();
    const address = `/suggest?${new URLSearchParams({ q: text, limit: SUGGESTIONS })}`;
    try {
      const response = await fetch(address, { signal: asking.signal, headers: { Accept: "application/json" } });
      if (!response.ok) {
        close();
        return;
      }
      const answer = await response.json();
      if (input.value.trim() === text && document.activeElement === input) {
        show(answer.suggestions);
      }
    } catch (error) {
      if (error.name !== "AbortError") {
        close(); // the form still searches: a failed suggestion is not worth an error
      }
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(waiting);
    const text = input.value.trim();
    if (text.length < MIN_CHARACTERS) {
      asking?.abort();
      close();
      return;
    }
    waiting = setTimeout(() => ask(text), WAIT_MS);
  });

  input.addEventListener("keydown", (event) => {
    const open = !list.hidden;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!suggestions.length) {
        return;
      }
      event.preventDefault();
      if (!open) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
      // Positions go round the suggestions and the box itself (-1), where the text typed is searched for.
      const step = event.key === "ArrowDown" ? 1 : -1;
      const positions = suggestions.length + 1;
      choose(((active + 1 + step + positions) % positions) - 1);
    } else if (event.key === "Enter" && open && active >= 0) {
      event.preventDefault(); // open the suggestion chosen rather than search for the text typed
      go(active);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close();
    }
  });

  input.addEventListener("blur", () => close());
  // A click on a suggestion must not take the focus from the box first (its blur would close the list).
  list.addEventListener("mousedown", (event) => event.preventDefault());
}

document.addEventListener("DOMContentLoaded", () => {
  const boxes = document.querySelectorAll("form[role=search] input[name=q]");
  boxes.forEach((input, number) => setUpCombobox(input, number));
});
