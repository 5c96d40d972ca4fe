"use client";

import dagre from "@dagrejs/dagre";
import { Background, Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import Link from "next/link";
import { useMemo } from "react";
import { cx } from "@/components/ui/cx";
import type { Lineage, LineageNode } from "@/db/queries/lineage";

const WIDTH = 200;
const HEIGHT = 64;

type VersionNode = Node<{ node: LineageNode }, "version">;

const statusClasses: Record<string, string> = {
  approved: "border-emerald-500",
  pending_review: "border-amber-500",
  rejected: "border-red-500",
  revoked: "border-red-600",
  deprecated: "border-amber-600",
  disabled: "border-zinc-500",
  draft: "border-zinc-400",
};

function VersionCard({ data }: NodeProps<VersionNode>) {
  const { node } = data;
  return (
    <div
      className={cx(
        "rounded-md border-2 bg-surface px-2 py-1.5 text-xs shadow-sm",
        node.releaseStatus ? statusClasses[node.releaseStatus] : "border-dashed border-zinc-400",
        node.current && "ring-2 ring-accent",
      )}
    >
      <Handle type="target" position={Position.Top} className="!bg-zinc-400" />
      {node.imageSlug && node.version ? (
        <Link
          href={`/images/${node.imageSlug}/versions/${encodeURIComponent(node.version)}`}
          className="block truncate font-medium"
        >
          {node.imageSlug} {node.version}
        </Link>
      ) : (
        <span className="block text-muted">A version you can't see</span>
      )}
      <span className="flex gap-1.5 text-muted">
        {node.releaseStatus ? node.releaseStatus.replace("_", " ") : ""}
        {node.outOfDate ? <span className="font-medium text-amber-700 dark:text-amber-300">· out of date</span> : null}
        {node.revokedAncestor ? <span className="font-medium text-danger">· revoked base</span> : null}
      </span>
      <Handle type="source" position={Position.Bottom} className="!bg-zinc-400" />
    </div>
  );
}

const nodeTypes = { version: VersionCard };

function layout(lineage: Lineage): { nodes: VersionNode[]; edges: Edge[] } {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "TB", nodesep: 24, ranksep: 48 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of lineage.nodes) graph.setNode(node.id, { width: WIDTH, height: HEIGHT });
  for (const edge of lineage.edges) graph.setEdge(edge.from, edge.to);
  dagre.layout(graph);
  return {
    nodes: lineage.nodes.map((node) => {
      const position = graph.node(node.id);
      return {
        id: node.id,
        type: "version",
        position: { x: position.x - WIDTH / 2, y: position.y - HEIGHT / 2 },
        data: { node },
        draggable: false,
      };
    }),
    edges: lineage.edges.map((edge) => ({ id: `${edge.from}-${edge.to}`, source: edge.from, target: edge.to })),
  };
}

/** Ancestry and descendants of a version, laid out automatically; a text list follows for readers. */
export function LineageGraph({ lineage }: { lineage: Lineage }) {
  const { nodes, edges } = useMemo(() => layout(lineage), [lineage]);
  const byId = new Map(lineage.nodes.map((node) => [node.id, node]));
  const name = (node: LineageNode) =>
    node.imageSlug ? `${node.imageSlug} ${node.version}` : "a version you can't see";
  const descendants = lineage.nodes.filter((node) => !lineage.ancestry.includes(node.id));
  return (
    <div className="space-y-3">
      <div
        role="group"
        aria-label={`Lineage graph with ${lineage.nodes.length} versions`}
        className="h-80 rounded-lg border border-line bg-canvas"
        data-testid="lineage-graph"
      >
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          fitView
          fitViewOptions={{ maxZoom: 1 }}
          nodesConnectable={false}
          elementsSelectable={false}
          proOptions={{ hideAttribution: true }}
        >
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
      <div className="grid gap-3 text-sm sm:grid-cols-2">
        <div>
          <h3 className="text-xs font-medium text-muted">Ancestry (root first)</h3>
          <ol aria-label="Ancestry" className="list-decimal pl-5">
            {lineage.ancestry.map((id) => (
              <li key={id}>
                {name(byId.get(id)!)} {byId.get(id)!.current ? "(this version)" : ""}
              </li>
            ))}
          </ol>
        </div>
        <div>
          <h3 className="text-xs font-medium text-muted">Descendants</h3>
          {descendants.length ? (
            <ul aria-label="Descendants" className="list-disc pl-5">
              {descendants.map((node) => (
                <li key={node.id}>
                  {name(node)}
                  {node.outOfDate ? " (out of date)" : ""}
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-muted">None yet.</p>
          )}
        </div>
      </div>
    </div>
  );
}
