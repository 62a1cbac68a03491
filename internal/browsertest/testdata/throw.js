throw new Error('boom from throw.js');
