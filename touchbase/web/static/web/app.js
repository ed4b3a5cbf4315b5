// touchbase owner app: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // --- SMS segments, counted as carriers do (PRODUCT §8) -----------------------------------
  var GSM_BASIC =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXTENSION = "^{}\\[~]|€\f";

  // The same rule as touchbase.delivery.segments: a two-unit character never straddles two
  // segments, so the count walks the message rather than dividing.
  function smsSegments(text) {
    var chars = Array.from(text), gsm = true, sizes = [];
    for (var ch of chars) {
      if (GSM_BASIC.indexOf(ch) < 0 && GSM_EXTENSION.indexOf(ch) < 0) { gsm = false; break; }
    }
    for (var c of chars) {
      if (gsm) sizes.push(GSM_EXTENSION.indexOf(c) >= 0 ? 2 : 1);
      else sizes.push(c.codePointAt(0) > 0xffff ? 2 : 1);
    }
    var units = sizes.reduce(function (a, b) { return a + b; }, 0);
    var single = gsm ? 160 : 70, part = gsm ? 153 : 67, segments = 0;
    if (units > 0 && units <= single) segments = 1;
    else if (units > single) {
      var used = 0; segments = 1;
      sizes.forEach(function (size) {
        if (used + size > part) { segments += 1; used = 0; }
        used += size;
      });
    }
    return { encoding: gsm ? "GSM-7" : "UCS-2", units: units, segments: segments };
  }
  window.touchbaseSmsSegments = smsSegments;

  function sampleValues() {
    var node = document.getElementById("sample-data");
    return node ? JSON.parse(node.textContent) : {};
  }

  function render(text, values) {
    return text.replace(/\{(\w+)\}/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : match;
    });
  }

  // Characters that switch a text to UCS-2 (Spanish á í ó ú, an emoji...), named for the owner.
  function notGsm(text) {
    var seen = [];
    Array.from(text).forEach(function (ch) {
      if (GSM_BASIC.indexOf(ch) < 0 && GSM_EXTENSION.indexOf(ch) < 0 && seen.indexOf(ch) < 0) seen.push(ch);
    });
    return seen;
  }

  function describe(count, message) {
    var text = count.segments + " segment" + (count.segments === 1 ? "" : "s") + " · " +
      count.units + " characters · " + count.encoding;
    if (count.encoding === "UCS-2") {
      text += " (because of " + notGsm(message).slice(0, 5).join(" ") + ": 70 characters per segment)";
    }
    if (count.segments > 10) return { text: text + " — too long (max 10 segments)", level: "refuse" };
    if (count.segments > 1) return { text: text + " — billed as " + count.segments + " messages: shorten it to fit one", level: "warn" };
    return { text: text, level: "" };
  }

  // The worker makes the first SMS of a sequence name the business and end with the opt-out
  // line (touchbase.delivery.rendering.sms_text); the editor previews exactly that.
  // The footer is in the text's language: Spanish names ALTO.
  function firstSmsText(text, values, language) {
    var out = text.trim(), name = values._business_name || "";
    var footer = language === "es" ? values._stop_footer_es : values._stop_footer;
    if (name && out.toLowerCase().indexOf(name.toLowerCase()) < 0) out = name + ": " + out;
    var ending = footer.replace(/\.$/, "").toLowerCase();
    var trimmed = out.replace(/[ .!]+$/, "").toLowerCase();
    if (trimmed.slice(-ending.length) !== ending) out = out + " " + footer;
    return out;
  }

  // The first touch whose message is an SMS (each touch has an English and a Spanish box).
  function isFirstSms(box) {
    var boxes = document.querySelectorAll("[data-preview][data-sequence]");
    for (var i = 0; i < boxes.length; i++) {
      var select = document.querySelector(boxes[i].dataset.previewBody);
      var option = select && select.options[select.selectedIndex];
      if (option && option.dataset.channel === "sms") return boxes[i].dataset.previewBody === box.dataset.previewBody;
    }
    return false;
  }

  function updateAll(root) {
    root.querySelectorAll("[data-preview]").forEach(updatePreview);
    drawSequence();
  }

  // The campaign editor redraws its sequence as the owner picks messages and delays.
  function drawSequence() {
    var drawing = document.querySelector("#sequence-drawing ol");
    var rows = document.querySelectorAll("[data-touch-row]");
    if (!drawing || !rows.length) return;
    var items = [];
    rows.forEach(function (row) {
      var select = row.querySelector("select");
      var delay = row.querySelector("input[type=number]");
      var option = select && select.options[select.selectedIndex];
      if (!option || !option.value) return;
      items.push({ channel: option.dataset.channel, delay: delay && delay.value ? delay.value : "?" });
    });
    drawing.textContent = "";
    items.forEach(function (item, index) {
      var li = document.createElement("li");
      var delay = document.createElement("span");
      delay.className = "delay";
      delay.textContent = (index === 0 ? "after " : "+") + item.delay + " h";
      var step = document.createElement("span");
      step.className = "step " + item.channel;
      step.textContent = (index + 1) + ". " + (item.channel === "sms" ? "SMS" : "Email");
      li.append(delay, " ", step);
      drawing.appendChild(li);
    });
  }

  // A template preview: [data-preview] holds the selectors of its subject/body sources.
  function updatePreview(box) {
    var values = sampleValues();
    var body = document.querySelector(box.dataset.previewBody);
    var subject = box.dataset.previewSubject && document.querySelector(box.dataset.previewSubject);
    var channel = box.dataset.channel;
    if (box.dataset.previewChannelFrom) {
      var channelInput = document.querySelector(box.dataset.previewChannelFrom);
      if (channelInput) channel = channelInput.value;
    }
    var spanish = box.dataset.language === "es", fallback = false;
    var bodyText = body ? (body.value !== undefined ? body.value : body.textContent) : "";
    if (spanish && !bodyText.trim() && box.dataset.previewFallback) {
      // No Spanish text: the customer gets the English one (touchbase.campaigns.models.text_for).
      var english = document.querySelector(box.dataset.previewFallback);
      bodyText = english ? english.value : "";
      subject = box.dataset.previewFallbackSubject && document.querySelector(box.dataset.previewFallbackSubject);
      fallback = true;
    }
    if (body && body.tagName === "SELECT") {
      var option = body.options[body.selectedIndex];
      var optionSubject = option ? option.dataset.subject : "";
      bodyText = option ? option.dataset.body || "" : "";
      if (spanish && option && (option.dataset.bodyEs || "").trim()) {
        bodyText = option.dataset.bodyEs;
        optionSubject = option.dataset.subjectEs || optionSubject;
      } else if (spanish) {
        fallback = !!bodyText;
      }
      subject = null;
      if (optionSubject) box.dataset.subjectText = optionSubject;
      else delete box.dataset.subjectText;
      channel = option ? option.dataset.channel : channel;
    }
    var note = box.querySelector("[data-fallback-note]");
    if (note) note.hidden = !(fallback && bodyText.trim());
    var rendered = render(bodyText, values);
    if (channel === "sms" && box.hasAttribute("data-sequence") && isFirstSms(box)) {
      rendered = firstSmsText(rendered, values, spanish && !fallback ? "es" : "en");
    }
    var out = box.querySelector("[data-preview-out]");
    var subjectText = subject ? subject.value : box.dataset.subjectText;
    out.textContent = (subjectText ? "Subject: " + render(subjectText, values) + "\n\n" : "") + rendered;
    var counter = box.querySelector("[data-counter]");
    if (counter) {
      if (channel === "sms") {
        var d = describe(smsSegments(rendered), rendered);
        counter.textContent = d.text;
        counter.className = "counter " + d.level;
        counter.hidden = false;
      } else {
        counter.textContent = "";
        counter.hidden = true;
      }
    }
  }

  function wirePreviews(root) {
    root.querySelectorAll("[data-preview]").forEach(function (box) {
      ["previewBody", "previewSubject", "previewChannelFrom", "previewFallback", "previewFallbackSubject"].forEach(function (key) {
        var source = box.dataset[key] && document.querySelector(box.dataset[key]);
        if (source) {
          source.addEventListener("input", function () { updateAll(document); });
          source.addEventListener("change", function () { updateAll(document); });
        }
      });
      updatePreview(box);
    });
  }

  // --- Charts (Chart.js from npm, loaded only on pages that have a chart) ------------------
  function drawCharts() {
    if (!window.Chart) return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var data = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.series.map(function (s, i) {
            return { label: s.label, data: s.values, backgroundColor: ["#0b5cad", "#6a3d9a", "#176b2c"][i % 3] };
          }),
        },
        options: { responsive: true, maintainAspectRatio: false, animation: false,
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    });
  }

  // --- Review link tester (onboarding, settings) -------------------------------------------
  function wireLinkTesters() {
    document.querySelectorAll("[data-test-link]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var place = document.querySelector(button.dataset.placeId);
        var url = document.querySelector(button.dataset.url);
        var target = place && place.value.trim()
          ? "https://search.google.com/local/writereview?placeid=" + encodeURIComponent(place.value.trim())
          : url && url.value.trim();
        var status = document.querySelector(button.dataset.status);
        if (!target) { status.textContent = "Enter a review link or a Google Place ID first."; return; }
        status.textContent = "Opened " + target + " in a new tab: check that it shows your review page.";
        window.open(target, "_blank", "noopener");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    document.querySelectorAll("form[data-progress]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var bar = document.querySelector(form.dataset.progress);
        if (bar) bar.hidden = false;
      });
    });
    wirePreviews(document);
    document.querySelectorAll("[data-touch-row] input[type=number]").forEach(function (input) {
      input.addEventListener("input", drawSequence);
    });
    wireLinkTesters();
    drawCharts();
  });
  document.addEventListener("htmx:afterSwap", function (event) { wirePreviews(event.target); });
})();
