import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';

/**
 * How deep an introspection selection (`__schema`, `__type`) may go. Not `maxDepth`: the standard introspection
 * query (GraphiQL's, codegen's) nests `ofType` about ten levels below `__schema { types { fields { type` and
 * must pass, yet `__Type` and `__Field` refer to each other, so without a bound a query could nest them forever.
 */
export const INTROSPECTION_MAX_DEPTH = 20;

interface Measure {
  /** Levels of fields, introspection subtrees left out. */
  depth: number;
  /** Levels of the deepest introspection subtree. */
  introspection: number;
  /** Fields selected, fragments counted once per spread. */
  cost: number;
}

const NOTHING: Measure = { depth: 0, introspection: 0, cost: 0 };

/**
 * Rejects operations nested deeper than `maxDepth` fields, or selecting more than `maxCost` fields in all (a
 * fragment counted each time it is spread), before any resolver runs: a hostile or careless query can neither
 * recurse through the graph nor multiply itself with aliases and fragments. Each fragment is measured once, so
 * fragments that spread each other ten times over cost the rule no more than reading them.
 */
export function operationLimitsRule(maxDepth: number, maxCost: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }
    const measured = new Map<string, Measure>();
    const visiting = new Set<string>();

    const measure = (set: SelectionSetNode | undefined): Measure => {
      if (!set) return NOTHING;
      const total = { depth: 0, introspection: 0, cost: 0 };
      const take = (inner: Measure, depth: number, introspection: number, cost: number) => {
        total.depth = Math.max(total.depth, depth);
        total.introspection = Math.max(total.introspection, introspection);
        total.cost += cost + inner.cost;
      };
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          const name = sel.name.value;
          const inner = measure(sel.selectionSet);
          if (name.startsWith('__')) take(inner, 0, 1 + Math.max(inner.depth, inner.introspection), 1);
          else take(inner, 1 + inner.depth, inner.introspection, 1);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          const inner = measure(sel.selectionSet);
          take(inner, inner.depth, inner.introspection, 0);
        } else {
          const name = sel.name.value;
          const fragment = fragments.get(name);
          if (!fragment || visiting.has(name)) continue; // unknown or cyclic fragments are other rules' errors
          let inner = measured.get(name);
          if (!inner) {
            visiting.add(name);
            inner = measure(fragment.selectionSet);
            visiting.delete(name);
            measured.set(name, inner);
          }
          take(inner, inner.depth, inner.introspection, 0);
        }
      }
      return total;
    };

    const refuse = (node: OperationDefinitionNode, message: string, code: string) =>
      context.reportError(new GraphQLError(message, { nodes: [node], extensions: { code } }));
    return {
      OperationDefinition(node) {
        const { depth, introspection, cost } = measure(node.selectionSet);
        if (depth > maxDepth) refuse(node, `query is ${depth} levels deep; the limit is ${maxDepth}`, 'QUERY_TOO_DEEP');
        if (introspection > INTROSPECTION_MAX_DEPTH) refuse(node, `introspection is ${introspection} levels deep; the limit is ${INTROSPECTION_MAX_DEPTH}`, 'QUERY_TOO_DEEP');
        if (cost > maxCost) refuse(node, `query selects ${cost} fields; the limit is ${maxCost}`, 'QUERY_TOO_COSTLY');
      },
    };
  };
}
