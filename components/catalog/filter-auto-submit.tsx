"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

function queryOf(form: HTMLFormElement): string {
  const query = new URLSearchParams();
  for (const [key, value] of new FormData(form)) {
    if (typeof value === "string" && value.trim() !== "") query.set(key, value.trim());
  }
  const text = query.toString();
  return text ? `/?${text}` : "/";
}

/**
 * Makes the catalog's GET form navigate without a full reload and without empty parameters, and
 * applies a select as soon as it changes. Without JavaScript the form still works as a plain GET.
 */
export function FilterAutoSubmit({ formId }: { formId: string }) {
  const router = useRouter();
  useEffect(() => {
    const form = document.getElementById(formId);
    if (!(form instanceof HTMLFormElement)) return;
    const onSubmit = (event: SubmitEvent) => {
      event.preventDefault();
      router.push(queryOf(form));
    };
    const onChange = (event: Event) => {
      if (event.target instanceof HTMLSelectElement) router.push(queryOf(form));
    };
    form.addEventListener("submit", onSubmit);
    form.addEventListener("change", onChange);
    return () => {
      form.removeEventListener("submit", onSubmit);
      form.removeEventListener("change", onChange);
    };
  }, [formId, router]);
  return null;
}
