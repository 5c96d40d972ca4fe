// The schema, one file per area; `@/db/schema` is the one import path for all of it.
export * from "../enums";
export * from "./auth";
export * from "./projects";
export * from "./images";
export * from "./uploads";
export * from "./recipes";
export * from "./governance";
export * from "./teams";
export * from "./audit";
export * from "./content";
export * from "./automation";
export * from "./platforms";
export * from "./processes";
