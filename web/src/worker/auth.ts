// Sign in and sign up.

import { h } from "../core/dom";
import type { Router } from "../core/router";
import { signIn, signUp } from "../core/session";
import { errorBox } from "../core/ui";

function field(label: string, attrs: Record<string, string>): [HTMLElement, HTMLInputElement] {
  const input = h("input", attrs);
  return [h("label", { class: "field" }, h("span", {}, label), input), input];
}

export function signInPage(root: HTMLElement, router: Router, next: string): void {
  const [emailField, email] = field("Email", { type: "email", name: "email", autocomplete: "username", required: "" });
  const [passwordField, password] = field("Password", { type: "password", name: "password", autocomplete: "current-password", required: "" });
  const errors = h("div", { class: "form-errors" });
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", { class: "card auth", "data-form": "signin" },
    h("h1", {}, "Sign in"),
    emailField, passwordField, errors, button,
    h("p", {}, "New here? ", h("a", { href: "/signup", "data-link": "" }, "Create an account")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    errors.replaceChildren();
    try {
      await signIn(email.value, password.value);
      router.go(next || "/", true);
    } catch (err) {
      errors.replaceChildren(errorBox(err, "signin"));
    } finally {
      button.disabled = false;
    }
  });
  root.replaceChildren(form);
  email.focus();
}

export function signUpPage(root: HTMLElement, router: Router): void {
  const [nameField, name] = field("Your name", { type: "text", name: "name", autocomplete: "name", required: "", maxlength: "200" });
  const [emailField, email] = field("Email", { type: "email", name: "email", autocomplete: "username", required: "" });
  const [passwordField, password] = field("Password (at least 10 characters)", { type: "password", name: "password", autocomplete: "new-password", required: "", minlength: "10" });
  const role = h("select", { name: "role", "aria-label": "Account type" },
    h("option", { value: "worker" }, "I want to annotate images (worker)"),
    h("option", { value: "requester" }, "I want images annotated (requester)"),
  );
  const errors = h("div", { class: "form-errors" });
  const button = h("button", { type: "submit", class: "primary" }, "Create account");
  const form = h("form", { class: "card auth", "data-form": "signup" },
    h("h1", {}, "Create an account"),
    h("p", { class: "muted" }, "Workers annotate images and are paid for every accepted answer; requesters post images and get them annotated."),
    h("label", { class: "field" }, h("span", {}, "Account type"), role),
    nameField, emailField, passwordField, errors, button,
    h("p", {}, "Already have an account? ", h("a", { href: "/signin", "data-link": "" }, "Sign in")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    errors.replaceChildren();
    try {
      await signUp(name.value, email.value, password.value, role.value as "worker" | "requester");
      router.go("/", true);
    } catch (err) {
      errors.replaceChildren(errorBox(err, "signin"));
    } finally {
      button.disabled = false;
    }
  });
  root.replaceChildren(form);
  name.focus();
}
