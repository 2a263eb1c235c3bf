// Postern dashboard: security keys (WebAuthn). A static file, so that the
// page's Content-Security-Policy (script-src 'self') holds. A form with
// data-webauthn="login" or "register" on its button is shown only when
// the browser offers WebAuthn; the button fetches the options from the
// form's data-options URL, asks the authenticator, puts its answer in
// the form's hidden "credential" field and submits the form.
"use strict";
(function () {
  function b64urlToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function decodeList(list) {
    return (list || []).map(function (c) {
      var o = { type: c.type, id: b64urlToBuf(c.id) };
      if (c.transports) o.transports = c.transports;
      return o;
    });
  }
  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.user.id = b64urlToBuf(pk.user.id);
    pk.excludeCredentials = decodeList(pk.excludeCredentials);
    return { publicKey: pk };
  }
  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.allowCredentials = decodeList(pk.allowCredentials);
    return { publicKey: pk };
  }
  function encodeCredential(c) {
    var r = c.response, out = {
      id: c.id, rawId: bufToB64url(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: bufToB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64url(r.userHandle);
    }
    return JSON.stringify(out);
  }
  function run(form, kind) {
    var errBox = form.querySelector("[data-webauthn-error]");
    function fail(msg) {
      if (errBox) { errBox.textContent = msg; errBox.hidden = false; }
    }
    var body = new URLSearchParams();
    var csrf = form.querySelector("input[name=csrf]");
    if (csrf) body.set("csrf", csrf.value);
    fetch(form.getAttribute("data-options"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (resp) {
        return resp.json().then(function (j) {
          if (!resp.ok) throw new Error(j.error || "The server refused the request.");
          return j;
        });
      })
      .then(function (opts) {
        return kind === "register"
          ? navigator.credentials.create(creationOptions(opts))
          : navigator.credentials.get(requestOptions(opts));
      })
      .then(function (cred) {
        if (!cred) throw new Error("The security key gave no answer.");
        form.querySelector("input[name=credential]").value = encodeCredential(cred);
        form.submit();
      })
      .catch(function (e) {
        fail(e && e.name === "NotAllowedError" ? "The security key request was cancelled or timed out." : String(e.message || e));
      });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var supported = !!(window.PublicKeyCredential && navigator.credentials);
    document.querySelectorAll("[data-webauthn]").forEach(function (btn) {
      var form = btn.closest("form");
      if (!supported) {
        return;
      }
      form.hidden = false;
      btn.addEventListener("click", function () { run(form, btn.getAttribute("data-webauthn")); });
    });
    if (!supported) {
      document.querySelectorAll("[data-webauthn-unsupported]").forEach(function (p) { p.hidden = false; });
    }
  });
})();
