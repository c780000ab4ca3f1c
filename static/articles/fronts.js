/* An arrangement's stories (the slots inline of articles/admin/fronts.py), reordered by drag or by keyboard.

Each row gets a position ("Lead", 2, 3...), a drag handle, and "Move up" / "Move down" buttons named after its
story; a move keeps the focus on the button pressed and is announced politely. The rows' order fields are
written from the rows' places, after each move and before the form is sent; rows without a story are left as
they are, so that an empty "Add another" row is still ignored by the server. Without this script the order
fields are typed by hand. Rows added by "Add another" are handled the same way (Django's formset:added).
*/
"use strict";
{
  const PREFIX = "slots";
  const SEPARATOR = " — "; // between a story's headline and its status (fronts.LABEL_SEPARATOR)

  const group = () => document.getElementById(`${PREFIX}-group`);

  function rows() {
    const box = group();
    return box ? [...box.querySelectorAll("tr.form-row")].filter((row) => !row.classList.contains("empty-form")) : [];
  }

  function field(row, name) {
    return row.querySelector(`[name$="-${name}"]`);
  }

  function hasStory(row) {
    const story = field(row, "article");
    return Boolean(story && story.value);
  }

  function storyName(row) {
    const story = field(row, "article");
    const option = story && story.selectedOptions[0];
    if (!option || !story.value) {
      return `empty row ${rows().indexOf(row) + 1}`;
    }
    const text = option.textContent.trim();
    const cut = text.lastIndexOf(SEPARATOR);
    return `“${cut > 0 ? text.slice(0, cut) : text}”`;
  }

  function positionName(index) {
    return index === 0 ? "position 1, the lead" : `position ${index + 1}`;
  }

  function announce(message) {
    const status = group().querySelector(".slot-announcer");
    status.textContent = "";
    // A fresh text node after a tick, so that the same message twice is announced twice.
    window.setTimeout(() => {
      status.textContent = message;
    }, 50);
  }

  /* The places of the rows: position labels, buttons' names and states, and the order fields. */
  function renumber() {
    const all = rows();
    all.forEach((row, index) => {
      row.classList.toggle("slot-lead", index === 0);
      const label = row.querySelector(".slot-position");
      if (label) {
        label.textContent = index === 0 ? "Lead" : String(index + 1);
      }
      const name = storyName(row);
      const up = row.querySelector(".slot-up");
      const down = row.querySelector(".slot-down");
      if (up) {
        up.setAttribute("aria-label", `Move up: ${name}`);
        up.setAttribute("aria-disabled", String(index === 0));
        down.setAttribute("aria-label", `Move down: ${name}`);
        down.setAttribute("aria-disabled", String(index === all.length - 1));
      }
      const remove = field(row, "DELETE");
      if (remove) {
        remove.setAttribute("aria-label", `Delete: ${name}`);
      }
      const order = field(row, "order");
      if (order && (hasStory(row) || row.classList.contains("has_original"))) {
        order.value = String(index);
      }
    });
  }

  /* Move a row (and the row of its errors, if any, which sits just above it) before another, or to the end. */
  function place(row, before) {
    const errors = row.previousElementSibling;
    const parent = row.parentNode;
    if (before && before.previousElementSibling && before.previousElementSibling.classList.contains("row-form-errors")) {
      before = before.previousElementSibling;
    }
    parent.insertBefore(row, before || parent.querySelector("tr.empty-form, tr.add-row"));
    if (errors && errors.classList.contains("row-form-errors")) {
      parent.insertBefore(errors, row);
    }
  }

  function moved(row) {
    renumber();
    announce(`Moved ${storyName(row)} to ${positionName(rows().indexOf(row))}.`);
  }

  function move(row, step, button) {
    const all = rows();
    const index = all.indexOf(row);
    const target = index + step;
    if (target < 0 || target >= all.length) {
      announce(`${storyName(row)} is already ${step < 0 ? "first, the lead" : "last"}.`);
      return;
    }
    place(row, step < 0 ? all[target] : all[target].nextElementSibling);
    button.focus(); // moving the row took the focus from it
    moved(row);
  }

  function button(className, text) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = `button ${className}`;
    element.textContent = text;
    return element;
  }

  /* The controls of one row, in its order cell; the order field itself is written by renumber(). */
  function decorate(row) {
    const order = field(row, "order");
    if (!order || row.querySelector(".slot-controls")) {
      return;
    }
    order.hidden = true;
    const controls = document.createElement("div");
    controls.className = "slot-controls";
    const position = document.createElement("span");
    position.className = "slot-position";
    const handle = document.createElement("span");
    handle.className = "slot-handle";
    handle.draggable = true;
    handle.title = "Drag to move this story";
    handle.setAttribute("aria-hidden", "true"); // the buttons do the same for keyboards and screen readers
    handle.textContent = "⠿";
    controls.append(position, handle, button("slot-up", "Move up"), button("slot-down", "Move down"));
    order.after(controls);
  }

  let dragged = null;

  function setUp() {
    const box = group();
    if (!box) {
      return;
    }
    const table = box.querySelector("table");
    const status = document.createElement("p");
    status.className = "slot-announcer";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    table.before(status);
    // The column of saved rows' hidden ids has no header text; say what it is to screen readers.
    const original = table.querySelector("thead th.original");
    if (original && !original.textContent.trim()) {
      original.insertAdjacentHTML("beforeend", '<span class="visually-hidden">Row</span>');
    }
    rows().forEach(decorate);
    renumber();

    box.addEventListener("click", (event) => {
      const pressed = event.target.closest(".slot-up, .slot-down");
      if (pressed) {
        event.preventDefault();
        move(pressed.closest("tr"), pressed.classList.contains("slot-up") ? -1 : 1, pressed);
      }
    });
    // The story picker (select2) says a change through jQuery, which native listeners do not hear.
    if (window.django && window.django.jQuery) {
      window.django.jQuery(box).on("change", "select", renumber);
    }
    box.addEventListener("change", renumber);

    box.addEventListener("dragstart", (event) => {
      const handle = event.target.closest && event.target.closest(".slot-handle");
      if (!handle) {
        return;
      }
      dragged = handle.closest("tr");
      dragged.classList.add("slot-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", storyName(dragged));
      event.dataTransfer.setDragImage(dragged, 20, 20);
    });
    box.addEventListener("dragover", (event) => {
      const over = dragged && event.target.closest && event.target.closest("tr.form-row");
      if (!over || over.classList.contains("empty-form")) {
        return;
      }
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      if (over === dragged) {
        return;
      }
      const rect = over.getBoundingClientRect();
      place(dragged, event.clientY < rect.top + rect.height / 2 ? over : over.nextElementSibling);
    });
    box.addEventListener("drop", (event) => {
      if (dragged) {
        event.preventDefault();
      }
    });
    box.addEventListener("dragend", () => {
      if (!dragged) {
        return;
      }
      const row = dragged;
      dragged = null;
      row.classList.remove("slot-dragging");
      moved(row);
    });

    document.addEventListener("formset:added", (event) => {
      if (event.detail && event.detail.formsetName === PREFIX) {
        decorate(event.target);
        renumber();
      }
    });
    document.addEventListener("formset:removed", (event) => {
      if (event.detail && event.detail.formsetName === PREFIX) {
        renumber();
      }
    });
    box.closest("form").addEventListener("submit", renumber);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
}
