import { authRouteHandler } from "@/lib/auth/config";

export const GET = authRouteHandler;
export const POST = authRouteHandler;
