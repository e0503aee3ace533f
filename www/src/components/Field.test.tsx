import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { Field } from './Field';

describe('Field', () => {
  it('labels the control and ties the error to it', () => {
    render(
      <Field label="Title" error="A title is required." testid="title">
        <input />
      </Field>,
    );
    const input = screen.getByLabelText('Title');
    expect(input.getAttribute('data-testid')).toBe('title');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    const error = screen.getByTestId('title-error');
    expect(input.getAttribute('aria-describedby')).toContain(error.id);
  });
});
