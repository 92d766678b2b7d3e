import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import { Modal } from "./Modal";

let finishLoading: () => void = () => {};

function Loading() {
  const [ready, setReady] = useState(false);
  finishLoading = () => setReady(true);
  return (
    <>
      <button type="button">Behind the dialog</button>
      <Modal title="Accept this recommendation?" onClose={() => {}}>
        {ready ? <button type="button">Apply</button> : <p>Loading the preview…</p>}
      </Modal>
      <button type="button">After the dialog</button>
    </>
  );
}

describe("modal focus", () => {
  it("keeps Tab inside the dialog while it has nothing to focus yet, then wraps among its controls", async () => {
    const user = userEvent.setup();
    render(<Loading />);
    const dialog = screen.getByRole("dialog", { name: "Accept this recommendation?" });
    expect(document.activeElement).toBe(dialog);
    await user.tab();
    expect(dialog.contains(document.activeElement)).toBe(true);
    await user.tab({ shift: true });
    expect(dialog.contains(document.activeElement)).toBe(true);
    act(() => finishLoading());
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Apply" }));
    await user.tab();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Apply" }));
  });
});
