import { Table, Td, Th, Tr } from "@/components/ui/table";
import type { ScanFacts } from "@/db/queries/content";

const list = (values: string[]) => (values.length ? [...values].sort().join(", ") : "none");

/** The OS facts of two scans, as [label, before, after] for those that differ. */
export function changedFacts(from: ScanFacts, to: ScanFacts): [string, string, string][] {
  const fields: [string, (facts: ScanFacts) => string][] = [
    ["Operating system found", (facts) => (facts.osFound ? "yes" : "no")],
    ["Type", (facts) => facts.osType ?? "—"],
    ["Distribution", (facts) => facts.distro ?? "—"],
    ["Product name", (facts) => facts.productName ?? "—"],
    ["Version", (facts) => facts.osVersion ?? "—"],
    ["Architecture", (facts) => facts.arch ?? "—"],
    ["Hostname", (facts) => facts.hostname ?? "—"],
    ["Package format", (facts) => facts.packageFormat ?? "—"],
    ["Package manager", (facts) => facts.packageManager ?? "—"],
    ["Init system", (facts) => facts.initSystem ?? "—"],
    ["Kernels", (facts) => list(facts.kernels)],
    ["Users with a login shell", (facts) => list(facts.loginUsers)],
    ["Enabled services", (facts) => list(facts.enabledServices)],
    ["Filesystems", (facts) => list(facts.filesystems.map((fs) => `${fs.device} ${fs.type}`.trim()))],
    ["Package count", (facts) => String(facts.packageCount)],
  ];
  return fields
    .map(([label, read]): [string, string, string] => [label, read(from), read(to)])
    .filter(([, before, after]) => before !== after);
}

export function FactsDiff({ from, to }: { from: ScanFacts; to: ScanFacts }) {
  const changes = changedFacts(from, to);
  if (!changes.length) return <p className="text-sm text-muted">No OS facts changed.</p>;
  return (
    <Table>
      <caption className="sr-only">OS facts that changed ({changes.length})</caption>
      <thead>
        <tr>
          <Th>Fact</Th>
          <Th>From</Th>
          <Th>To</Th>
        </tr>
      </thead>
      <tbody>
        {changes.map(([label, before, after]) => (
          <Tr key={label}>
            <Td className="text-muted">{label}</Td>
            <Td className="break-words">{before}</Td>
            <Td className="break-words">{after}</Td>
          </Tr>
        ))}
      </tbody>
    </Table>
  );
}
