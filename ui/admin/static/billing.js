// AuraLink admin UI, Billing: card entry with Stripe.js Elements. The card goes from the browser to Stripe only:
// a SetupIntent made by the server is confirmed here (confirmCardSetup) and the server keeps its payment method.
"use strict";

const CARD_FIELD_NAMES = {
  number: "Card number", exp_month: "Expiry month (MM)", exp_year: "Expiry year (YY)", cvc: "Security code (CVC)",
  postal_code: "Postal code",
};

function nameCardFields(container) {
  // Stripe's own Element is an iframe with labelled fields; a test Stripe.js's inputs carry only a placeholder.
  for (const input of container.querySelectorAll("input")) {
    const name = CARD_FIELD_NAMES[input.getAttribute("placeholder")];
    if (name && !input.hasAttribute("aria-label")) input.setAttribute("aria-label", name);
    input.setAttribute("autocomplete", "off");
  }
}

async function messageOf(response) {
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  return (page.querySelector("[role=alert]") || page.body).textContent.trim() || `the server answered ${response.status}`;
}

function cardEntry(form) {
  const stripe = Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create("card");
  const container = form.querySelector("#card-element");
  card.mount(container);
  nameCardFields(container);
  const problem = form.querySelector("#e-card");
  const button = form.querySelector("button[type=submit]");
  const token = form.querySelector("input[name=_csrf_token]").value;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.textContent = "";
    button.disabled = true;
    try {
      const answer = await fetch(form.dataset.setup, {
        method: "POST", headers: { "X-CSRFToken": token, "HX-Request": "true", Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!answer.ok) throw new Error(await messageOf(answer));
      const { client_secret: secret } = await answer.json();
      const result = await stripe.confirmCardSetup(secret, { payment_method: { card } });
      if (result.error) throw new Error(result.error.message || "Stripe refused the card");
      form.querySelector("input[name=setup_intent]").value = result.setupIntent.id;
      form.submit();
    } catch (error) {
      problem.textContent = error.message.includes("undefined") ? "Enter the card's number, expiry and code." : error.message;
      button.disabled = false;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("card-form");
  if (form && typeof Stripe === "function") cardEntry(form);
});
