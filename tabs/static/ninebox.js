// The 9-box in calibration: drag a person's chip onto another cell and a small dialog asks for the reason,
// then posts the same form as the chip's own Move button (person, cell, reason). Without JavaScript, or
// from the keyboard, the Move buttons do all of it: nothing here is needed to move anyone.
(function () {
  "use strict";

  var figure = document.querySelector(".nb[data-move-url]");
  var dialog = document.getElementById("nb-dialog");
  if (!figure || !dialog || typeof dialog.showModal !== "function") return;

  var personField = document.getElementById("nb-dialog-person");
  var boxField = document.getElementById("nb-dialog-box");
  var nameSlot = document.getElementById("nb-dialog-name");
  var targetSlot = document.getElementById("nb-dialog-target");
  var reason = document.getElementById("nb-dialog-reason");
  var cancel = document.getElementById("nb-dialog-cancel");
  var cells = Array.prototype.slice.call(figure.querySelectorAll(".nb-cell[data-box]"));
  var dragged = null;
  var returnFocus = null;

  function clearTargets() {
    cells.forEach(function (cell) {
      cell.classList.remove("is-drop-target");
    });
  }

  // A chip can go to any cell but its own.
  function accepts(cell) {
    return dragged !== null && cell.dataset.box !== dragged.dataset.box;
  }

  function ask(chip, cell) {
    personField.value = chip.dataset.person;
    boxField.value = cell.dataset.box;
    // textContent: names are shown as typed, never parsed as markup.
    nameSlot.textContent = chip.dataset.name;
    targetSlot.textContent = cell.dataset.label;
    reason.value = "";
    returnFocus = chip.querySelector("summary");
    dialog.showModal();
    reason.focus();
  }

  document.querySelectorAll('.nb-chip[draggable="true"]').forEach(function (chip) {
    chip.addEventListener("dragstart", function (event) {
      dragged = chip;
      chip.classList.add("is-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", chip.dataset.name || "");
    });
    chip.addEventListener("dragend", function () {
      chip.classList.remove("is-dragging");
      clearTargets();
      dragged = null;
    });
  });

  cells.forEach(function (cell) {
    cell.addEventListener("dragover", function (event) {
      if (!accepts(cell)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      cell.classList.add("is-drop-target");
    });
    cell.addEventListener("dragleave", function (event) {
      if (!cell.contains(event.relatedTarget)) cell.classList.remove("is-drop-target");
    });
    cell.addEventListener("drop", function (event) {
      if (!accepts(cell)) return;
      event.preventDefault();
      var chip = dragged;
      clearTargets();
      ask(chip, cell);
    });
  });

  cancel.addEventListener("click", function () {
    dialog.close();
  });

  dialog.addEventListener("close", function () {
    if (returnFocus) returnFocus.focus();
    returnFocus = null;
  });
})();
