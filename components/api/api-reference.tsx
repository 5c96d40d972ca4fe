// The API reference, rendered on the server from the OpenAPI document: no script, no network, the
// same document machines read at /api/v1/openapi.json. Schemas are shown as field lists; a field
// whose type is a named schema links to that schema's section at the bottom.
import type { ReactNode } from "react";
import { Badge, type BadgeTone } from "@/components/ui/badge";

type Json = Record<string, unknown>;

interface Operation {
  method: string;
  path: string;
  id: string;
  tag: string;
  summary: string;
  description?: string;
  parameters: { name: string; in: string; required?: boolean; description?: string; schema?: Json }[];
  body?: Record<string, { schema?: Json }>;
  responses: Record<string, { description?: string; content?: Record<string, { schema?: Json }> }>;
  isPublic: boolean;
}

const METHODS = ["get", "head", "post", "put", "patch", "delete"] as const;
const methodTone: Record<string, BadgeTone> = {
  GET: "accent",
  HEAD: "neutral",
  POST: "success",
  PUT: "warning",
  PATCH: "warning",
  DELETE: "danger",
};

function operationsOf(document: Json): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, Json>))
    for (const method of METHODS) {
      const operation = item[method] as Json | undefined;
      if (!operation) continue;
      operations.push({
        method: method.toUpperCase(),
        path,
        id: String(operation.operationId ?? `${method}-${path}`),
        tag: ((operation.tags as string[] | undefined) ?? ["Other"])[0]!,
        summary: String(operation.summary ?? ""),
        description: operation.description as string | undefined,
        parameters: (operation.parameters ?? []) as Operation["parameters"],
        body: (operation.requestBody as Json | undefined)?.content as Operation["body"],
        responses: (operation.responses ?? {}) as Operation["responses"],
        isPublic: Array.isArray(operation.security) && operation.security.length === 0,
      });
    }
  return operations;
}

const refName = (ref: string) => ref.split("/").pop()!;

/** Prose from the document, with its `backticked` words as code. */
function Prose({ text }: { text: string }) {
  return <>{text.split(/`([^`]+)`/).map((part, index) => (index % 2 ? <code key={index}>{part}</code> : part))}</>;
}

/** A one-line type for a schema: `string`, `Image`, `array of Version`, `"a" | "b"`. */
function typeOf(schema: Json | undefined): ReactNode {
  if (!schema) return "any";
  if (typeof schema.$ref === "string") {
    const name = refName(schema.$ref);
    return <a href={`#schema-${name}`}>{name}</a>;
  }
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
  const variants = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (variants)
    return variants.map((variant, index) => (
      <span key={index}>
        {index ? " | " : ""}
        {typeOf(variant)}
      </span>
    ));
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type;
  if (type === "array") return <>array of {typeOf(schema.items as Json | undefined)}</>;
  if (type === "string" && schema.format) return `string (${String(schema.format)})`;
  return String(type ?? "any");
}

function Fields({ schema, depth = 0 }: { schema: Json | undefined; depth?: number }) {
  if (!schema) return null;
  const properties = schema.properties as Record<string, Json> | undefined;
  if (!properties || schema.$ref) return <code className="text-xs">{typeOf(schema)}</code>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return (
    <ul className={depth ? "ml-4 border-l border-line pl-3" : ""}>
      {Object.entries(properties).map(([name, property]) => (
        <li key={name} className="py-0.5 text-sm">
          <code className="font-semibold">{name}</code>
          {required.has(name) ? null : <span className="text-muted">?</span>}{" "}
          <code className="text-xs text-muted">{typeOf(property)}</code>
          {property.description ? (
            <span className="text-muted">
              {" "}
              — <Prose text={String(property.description)} />
            </span>
          ) : null}
          {property.properties && depth < 3 ? <Fields schema={property} depth={depth + 1} /> : null}
          {(property.items as Json | undefined)?.properties && depth < 3 ? (
            <Fields schema={property.items as Json} depth={depth + 1} />
          ) : null}
        </li>
      ))}
    </ul>
  );
}

function OperationSection({
  operation,
  origin,
  resolve,
}: {
  operation: Operation;
  origin: string;
  resolve: (schema: Json | undefined) => Json | undefined;
}) {
  const example =
    operation.method === "GET" || operation.method === "HEAD"
      ? `curl ${operation.method === "HEAD" ? "-I " : ""}-H "Authorization: Bearer $HANGAR_TOKEN" ${origin}${operation.path}`
      : `curl -X ${operation.method} -H "Authorization: Bearer $HANGAR_TOKEN" -H "Content-Type: application/json" -d '{…}' ${origin}${operation.path}`;
  return (
    <section
      id={operation.id}
      aria-labelledby={`${operation.id}-title`}
      className="scroll-mt-20 border-t border-line py-5"
    >
      <h3 id={`${operation.id}-title`} className="flex flex-wrap items-center gap-2 text-base font-semibold">
        <Badge tone={methodTone[operation.method] ?? "neutral"} dot={false}>
          {operation.method}
        </Badge>
        <code className="break-all">{operation.path}</code>
      </h3>
      <p className="mt-1">
        <Prose text={operation.summary} />
      </p>
      {operation.description ? (
        <p className="mt-1 whitespace-pre-line text-muted">
          <Prose text={operation.description} />
        </p>
      ) : null}
      {operation.isPublic ? <p className="mt-1 text-sm text-muted">No token needed.</p> : null}
      {operation.parameters.length ? (
        <>
          <h4 className="mt-3 text-sm font-semibold">Parameters</h4>
          <ul>
            {operation.parameters.map((parameter) => (
              <li key={`${parameter.in}-${parameter.name}`} className="py-0.5 text-sm">
                <code className="font-semibold">{parameter.name}</code>{" "}
                <span className="text-muted">
                  ({parameter.in}
                  {parameter.required ? ", required" : ""})
                </span>{" "}
                <code className="text-xs text-muted">{typeOf(parameter.schema)}</code>
                {parameter.description ? (
                  <span className="text-muted">
                    {" "}
                    — <Prose text={parameter.description} />
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {operation.body
        ? Object.entries(operation.body).map(([type, content]) => (
            <div key={type}>
              <h4 className="mt-3 text-sm font-semibold">
                Body <span className="font-normal text-muted">({type})</span>
              </h4>
              <Fields schema={resolve(content.schema)} />
            </div>
          ))
        : null}
      <h4 className="mt-3 text-sm font-semibold">Responses</h4>
      <ul>
        {Object.entries(operation.responses).map(([status, response]) => {
          const json = response.content?.["application/json"]?.schema;
          return (
            <li key={status} className="py-0.5 text-sm">
              <code className="font-semibold">{status}</code> <Prose text={response.description ?? ""} />
              {json && !(typeof json.$ref === "string" && refName(json.$ref) === "Error") ? (
                <>
                  {" "}
                  <code className="text-xs text-muted">{typeOf(json)}</code>
                </>
              ) : null}
            </li>
          );
        })}
      </ul>
      {/* Wrapped, not scrolled: a scrolling box would need to be focusable to be read by keyboard. */}
      <pre className="mt-3 whitespace-pre-wrap break-all rounded-md bg-raised p-2 text-xs">
        <code>{example}</code>
      </pre>
    </section>
  );
}

export function ApiReference({ document }: { document: Json }) {
  const operations = operationsOf(document);
  // In the document's tag order (Meta last), then any tag it does not list.
  const declared = ((document.tags as { name: string }[] | undefined) ?? []).map((tag) => tag.name);
  const used = new Set(operations.map((operation) => operation.tag));
  const tags = [...declared.filter((tag) => used.has(tag)), ...[...used].filter((tag) => !declared.includes(tag))];
  const origin = ((document.servers as { url: string }[] | undefined) ?? [])[0]?.url ?? "";
  const schemas = ((document.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
  // A request body is shown with its fields where it is sent, not only as a link to its schema.
  const resolve = (schema: Json | undefined) =>
    typeof schema?.$ref === "string" ? (schemas[refName(schema.$ref)] ?? schema) : schema;
  return (
    <div className="grid gap-8 lg:grid-cols-[14rem_1fr]">
      <nav aria-label="API sections" className="lg:sticky lg:top-20 lg:self-start">
        <ul className="space-y-3 text-sm">
          {tags.map((tag) => (
            <li key={tag}>
              <a href={`#tag-${tag}`} className="font-semibold">
                {tag}
              </a>
              <ul className="mt-1 space-y-0.5">
                {operations
                  .filter((operation) => operation.tag === tag)
                  .map((operation) => (
                    <li key={operation.id}>
                      <a href={`#${operation.id}`} className="text-muted">
                        <span className="inline-block w-12 font-mono text-xs">{operation.method}</span>
                        <Prose text={operation.summary} />
                      </a>
                    </li>
                  ))}
              </ul>
            </li>
          ))}
          <li>
            <a href="#schemas" className="font-semibold">
              Schemas
            </a>
          </li>
        </ul>
      </nav>
      <div className="min-w-0">
        {tags.map((tag) => (
          <section key={tag} id={`tag-${tag}`} aria-labelledby={`tag-${tag}-title`} className="mb-6 scroll-mt-20">
            <h2 id={`tag-${tag}-title`} className="text-lg font-semibold">
              {tag}
            </h2>
            {operations
              .filter((operation) => operation.tag === tag)
              .map((operation) => (
                <OperationSection key={operation.id} operation={operation} origin={origin} resolve={resolve} />
              ))}
          </section>
        ))}
        <section id="schemas" aria-labelledby="schemas-title" className="scroll-mt-20">
          <h2 id="schemas-title" className="text-lg font-semibold">
            Schemas
          </h2>
          {Object.entries(schemas).map(([name, schema]) => (
            <section key={name} id={`schema-${name}`} className="scroll-mt-20 border-t border-line py-4">
              <h3 className="font-semibold">
                <code>{name}</code>
              </h3>
              {schema.description ? (
                <p className="text-sm text-muted">
                  <Prose text={String(schema.description)} />
                </p>
              ) : null}
              <Fields schema={schema} />
            </section>
          ))}
        </section>
      </div>
    </div>
  );
}
