import type { Socket } from 'node:net';

export function isLoopbackHost(host: string): boolean;
export function serverHost(server: string): string;
export function connectTarget(args: unknown[]): { host: unknown; port: unknown } | undefined;
export const violations: string[];
export const seen: string[];
export function installLoopbackGuard(options: { mode: 'throw' | 'exit' }): void;
export function withUnderlyingConnect<T>(fake: (this: Socket, ...args: unknown[]) => unknown, body: () => Promise<T>): Promise<T>;
export const GUARD_EXIT_CODE: number;
export const GUARD_NODE_OPTIONS: string;
export function withGuard(nodeOptions: string | undefined): string;
export function guardedArguments(args: unknown[]): unknown[];
