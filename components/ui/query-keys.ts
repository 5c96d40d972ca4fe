// Every key of the client's query cache, so invalidation can't miss a variant and two components
// reading the same resource share one cache entry.
export const tagKeys = {
  all: ["tags"] as const,
  suggestions: (prefix: string) => [...tagKeys.all, "suggestions", prefix] as const,
};

export const conversionKeys = {
  all: ["conversions"] as const,
  version: (versionId: string) => [...conversionKeys.all, versionId] as const,
};

export const importKeys = {
  all: ["imports"] as const,
  version: (versionId: string) => [...importKeys.all, "version", versionId] as const,
};

export const cloneKeys = {
  all: ["clones"] as const,
  /** `query` is the /api/clones query string (projectId=… or ids=…). */
  list: (query: string) => [...cloneKeys.all, "list", query] as const,
};
