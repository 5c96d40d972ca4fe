"use client";

import { usePathname, useSearchParams } from "next/navigation";
import { useEffect, useRef, useState } from "react";

/** Tells screen-reader users which page a client-side navigation arrived at (see globals.css). */
export function RouteAnnouncer() {
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const [message, setMessage] = useState("");
  const first = useRef(true);
  const location = `${pathname}?${searchParams.toString()}`;

  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    // The new title is committed after this render; read it on the next frame.
    const frame = requestAnimationFrame(() => {
      setMessage(document.title || document.querySelector("h1")?.textContent || "");
    });
    return () => cancelAnimationFrame(frame);
  }, [location]);

  return (
    <p aria-live="polite" aria-atomic="true" className="sr-only">
      {message}
    </p>
  );
}
