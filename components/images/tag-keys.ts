// One place that names every cached tag query, so invalidation can't miss a variant.
export const tagKeys = {
  all: ["tags"] as const,
  suggestions: (prefix: string) => [...tagKeys.all, "suggestions", prefix] as const,
};
