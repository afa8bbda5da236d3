import type { Socket } from 'node:net';

export function isLoopbackHost(host: string): boolean;
export function serverHost(server: string): string;
export function connectTarget(args: unknown[]): { host: unknown; port: unknown } | undefined;
export const violations: string[];
export const seen: string[];
export function installLoopbackGuard(options: { mode: 'throw' | 'exit' }): void;
export function withUnderlyingConnect<T>(fake: (this: Socket, ...args: unknown[]) => unknown, body: () => Promise<T>): Promise<T>;
