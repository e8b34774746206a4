/**
 * Records a voice note as soon as it appears: the microphone through getUserMedia, MediaRecorder in
 * the first format the browser supports (Opus in WebM or Ogg, else AAC in MP4; the server turns any
 * of them into Opus + AAC), a live level meter and timer, and "Stop & send" / "Cancel".
 */
import { useEffect, useRef, useState } from 'react';
import { formatDuration } from './format.ts';
import './media.css';

export interface VoiceRecorderProps {
  /** The finished recording, named voice-note-….webm/ogg/m4a. */
  onRecorded(file: File): void;
  /** The person cancelled (or closed the recorder); nothing is sent. */
  onCancel(): void;
}

const TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4'];
/** Voice notes longer than this stop and send by themselves. */
const MAX_SECONDS = 15 * 60;
/** Bars in the live meter (newest on the right). */
const METER_BARS = 40;

type Phase = 'starting' | 'recording' | 'finishing' | 'error';

export function VoiceRecorder({ onRecorded, onCancel }: VoiceRecorderProps) {
  const [phase, setPhase] = useState<Phase>('starting');
  const [error, setError] = useState<string | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const [levels, setLevels] = useState<number[]>(() => new Array(METER_BARS).fill(0));
  const recorder = useRef<MediaRecorder | null>(null);
  const send = useRef(false);
  const stopButton = useRef<HTMLButtonElement>(null);
  /** Stops the recording; set by the effect that owns the recorder. */
  const finishRef = useRef<(andSend: boolean) => void>(() => {});
  const callbacks = useRef({ onRecorded, onCancel });
  callbacks.current = { onRecorded, onCancel };

  useEffect(() => {
    let disposed = false;
    let stream: MediaStream | null = null;
    let audio: AudioContext | null = null;
    let frame = 0;
    let timer: ReturnType<typeof setInterval> | undefined;

    async function start() {
      if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
        fail('This browser cannot record audio.');
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
      } catch (err) {
        fail(microphoneError(err));
        return;
      }
      if (disposed) {
        // Unmounted while the permission prompt was open: let the microphone go at once.
        for (const track of stream.getTracks()) track.stop();
        return;
      }
      const mimeType = TYPES.find((t) => MediaRecorder.isTypeSupported(t));
      const rec = new MediaRecorder(stream, mimeType ? { mimeType, audioBitsPerSecond: 32_000 } : undefined);
      recorder.current = rec;
      const chunks: Blob[] = [];
      const began = performance.now();
      rec.ondataavailable = (event) => {
        if (event.data.size > 0) chunks.push(event.data);
      };
      rec.onstop = () => {
        release();
        if (!send.current || disposed) return;
        const type = (rec.mimeType || mimeType || 'audio/webm').split(';')[0] ?? 'audio/webm';
        const blob = new Blob(chunks, { type });
        if (blob.size === 0) {
          fail('Nothing was recorded. Check your microphone and try again.');
          return;
        }
        const extension = type.includes('ogg') ? 'ogg' : type.includes('mp4') ? 'm4a' : 'webm';
        const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
        callbacks.current.onRecorded(new File([blob], `voice-note-${stamp}.${extension}`, { type }));
      };
      // A timeslice keeps chunks coming, so a crash of the tab mid-note loses at most a second.
      rec.start(1000);
      setPhase('recording');
      timer = setInterval(() => {
        const seconds = (performance.now() - began) / 1000;
        setElapsed(seconds);
        if (seconds >= MAX_SECONDS) finish(true);
      }, 250);
      meter(stream);
    }

    /** The level meter: RMS of the microphone signal, about 15 times a second. */
    function meter(source: MediaStream) {
      try {
        audio = new AudioContext();
        const analyser = audio.createAnalyser();
        analyser.fftSize = 1024;
        audio.createMediaStreamSource(source).connect(analyser);
        const samples = new Float32Array(analyser.fftSize);
        let last = 0;
        const tick = (now: number) => {
          frame = requestAnimationFrame(tick);
          if (now - last < 66) return;
          last = now;
          analyser.getFloatTimeDomainData(samples);
          let sum = 0;
          for (const s of samples) sum += s * s;
          // Speech RMS sits around 0.01..0.3: a square root spreads it over the bar.
          const level = Math.min(1, Math.sqrt(Math.sqrt(sum / samples.length)) * 1.6);
          setLevels((previous) => [...previous.slice(1), level]);
        };
        frame = requestAnimationFrame(tick);
      } catch {
        // No Web Audio: record without the meter.
      }
    }

    function release() {
      clearInterval(timer);
      cancelAnimationFrame(frame);
      for (const track of stream?.getTracks() ?? []) track.stop();
      void audio?.close().catch(() => {});
      audio = null;
    }

    function fail(message: string) {
      release();
      if (disposed) return;
      setError(message);
      setPhase('error');
    }

    finishRef.current = finish;
    function finish(andSend: boolean) {
      send.current = andSend;
      const rec = recorder.current;
      if (rec && rec.state !== 'inactive') {
        setPhase('finishing');
        rec.stop();
      } else release();
    }

    void start();
    return () => {
      disposed = true;
      const rec = recorder.current;
      send.current = false;
      if (rec && rec.state !== 'inactive') rec.stop();
      release();
    };
  }, []);

  // The person is now recording: put them on "Stop & send" (it was disabled until now).
  useEffect(() => {
    if (phase === 'recording') stopButton.current?.focus();
  }, [phase]);

  if (phase === 'error') {
    return (
      <div className="voice-recorder error-state" role="alert">
        <p className="error">{error}</p>
        <button type="button" onClick={() => callbacks.current.onCancel()}>
          Close
        </button>
      </div>
    );
  }

  return (
    <div className="voice-recorder">
      <span className={`voice-dot${phase === 'recording' ? ' live' : ''}`} aria-hidden="true" />
      <span className="voice-time" role="timer" aria-live="off">
        {formatDuration(elapsed)}
      </span>
      <span className="media-sr-only" aria-live="polite">
        {phase === 'starting' ? 'Starting the microphone…' : phase === 'recording' ? 'Recording' : 'Finishing…'}
      </span>
      <svg className="voice-meter" viewBox={`0 0 ${METER_BARS * 4} 24`} preserveAspectRatio="none" aria-hidden="true" focusable="false">
        {levels.map((level, i) => {
          const h = Math.max(2, level * 24);
          // biome-ignore lint/suspicious/noArrayIndexKey: positional bars of a scrolling meter
          return <rect key={i} x={i * 4} y={(24 - h) / 2} width={2.5} height={h} rx={1} />;
        })}
      </svg>
      <button
        type="button"
        className="voice-cancel"
        onClick={() => {
          finishRef.current(false);
          callbacks.current.onCancel();
        }}
      >
        Cancel
      </button>
      <button ref={stopButton} type="button" className="voice-send primary" disabled={phase !== 'recording'} onClick={() => finishRef.current(true)}>
        Stop &amp; send
      </button>
    </div>
  );
}

function microphoneError(err: unknown): string {
  const name = (err as { name?: string }).name;
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return 'Microphone access was refused. Allow the microphone for this site in your browser settings, then try again.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No microphone was found. Connect one and try again.';
  if (name === 'NotReadableError') return 'The microphone is in use by another app, or could not be started.';
  return `Could not start the microphone${(err as Error)?.message ? `: ${(err as Error).message}` : '.'}`;
}
